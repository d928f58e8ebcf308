#!/usr/bin/env python
from tongban.cli import main

if __name__ == "__main__":
    main()
