"""Password rules beyond Django's (length >= 10, not common, not all digits, not like the user)."""

from __future__ import annotations

import string

from django.core.exceptions import ValidationError


class CharacterClassValidator:
    """At least `min_classes` of: lower-case letters, upper-case letters, digits, other characters."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        classes = [
            any(c in string.ascii_lowercase for c in password),
            any(c in string.ascii_uppercase for c in password),
            any(c.isdigit() for c in password),
            any(not (c.isascii() and c.isalnum()) for c in password),
        ]
        if sum(classes) < self.min_classes:
            raise ValidationError(self.message(), code="password_character_classes")

    def message(self) -> str:
        return (f"密码须包含小写字母、大写字母、数字、其他字符中的至少 {self.min_classes} 类 / "
                f"the password must mix at least {self.min_classes} of: lower-case, upper-case, digits, other characters")

    def get_help_text(self) -> str:
        return self.message()
