"""Seeds a fresh pretix for the live test; run by ``python -m pretix shell`` (stdin).

Makes an organizer ``bluepaid``, an event ``live`` in EUR on sale now with one
ticket at 36.60 and a quota, the Bluepaid plugin enabled with the hub's pay URL
template, the admin user's password, and an API token of a team allowed everything on the
event. The template, the admin's password and the token come from the environment
(``SEED_PAY_URL``, ``SEED_ADMIN_PASSWORD``, ``SEED_TOKEN``): the test chose them.
"""

import os
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils.timezone import now
from django_scopes import scopes_disabled
from pretix.base.models import Event, Item, Organizer, Quota, Team, User

with scopes_disabled(), transaction.atomic():
    organizer = Organizer.objects.create(name="Bluepaid test organizer", slug="bluepaid")
    organizer.create_default_sales_channels()
    # pretix's first migration made this superuser, with a well-known password.
    admin = User.objects.get(email="admin@localhost")
    admin.set_password(os.environ["SEED_ADMIN_PASSWORD"])
    admin.save()
    event = Event.objects.create(
        organizer=organizer,
        name="Bluepaid live test",
        slug="live",
        currency="EUR",
        date_from=now() + timedelta(days=30),
        live=True,
    )
    event.set_defaults()
    event.enable_plugin("pretix_bluepaid")
    event.save()
    event.settings.set("locales", ["en", "fr"])
    event.settings.set("payment_bluepaid__enabled", True)
    event.settings.set("payment_bluepaid_pay_url", os.environ["SEED_PAY_URL"])
    event.settings.set("attendee_names_asked", False)
    event.settings.set("invoice_address_asked", False)
    event.settings.set("mail_send_order_placed_attendee", False)
    ticket = Item.objects.create(event=event, name="Ticket", default_price=Decimal("36.60"), admission=True)
    quota = Quota.objects.create(event=event, name="Tickets", size=100)
    quota.items.add(ticket)
    team = Team.objects.create(
        organizer=organizer,
        name="Bluepaid hub",
        all_events=True,
        all_event_permissions=True,
        all_organizer_permissions=True,
    )
    team.members.add(admin)
    team.tokens.create(name="Bluepaid hub", token=os.environ["SEED_TOKEN"])
