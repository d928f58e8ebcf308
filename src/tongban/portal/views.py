from django.shortcuts import render

from tongban.bundles import selectors as bundle_selectors
from tongban.catalog import selectors as catalog_selectors
from tongban.core import demo


def home(request):
    bundles = bundle_selectors.published_bundles()
    return render(request, "portal/home.html", {
        "regions": catalog_selectors.regions_with_counts().filter(level__in=["city", "county"]),
        "personal": [b for b in bundles if b.theme == "personal"],
        "enterprise": [b for b in bundles if b.theme == "enterprise"],
        "demo_accounts": demo.demo_accounts(),
        "demo_password": demo.DEMO_PASSWORD,
    })
