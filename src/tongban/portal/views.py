from django.shortcuts import render

from tongban.catalog import selectors as catalog_selectors


def home(request):
    return render(request, "portal/home.html", {"regions": catalog_selectors.regions_with_counts()})
