"""The plugin's REST API route, on pretix's router of one order's routes.

pretix imports every plugin's ``urls`` module before it builds its API's URLs
(``src/pretix/api/urls.py``), as its own bank transfer plugin registers its
``bankimportjobs`` there: the route is
``/api/v1/organizers/{organizer}/events/{event}/orders/{code}/bluepaid/{local_id}/outcome/``.
"""

from pretix.api.urls import order_router

from pretix_bluepaid.api import PaymentOutcomeViewSet

order_router.register("bluepaid", PaymentOutcomeViewSet, basename="bluepaid-payment")
