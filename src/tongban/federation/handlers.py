"""Handlers of received messages that are not about one case (registered on import, from apps.ready).

The case handlers of the handling node live in tongban.federation.handling."""

from __future__ import annotations

from django.db import transaction

from .envelope import MessageType
from .inbox import handler
from .models import InboxMessage, Peer
from .trustlists import store_peer_lists


@handler(MessageType.TRUST_LIST)
def apply_trust_list(message: InboxMessage) -> None:
    """A peer's re-published trust lists replace the held ones when newer (idempotent: an equal or older
    sequence is ignored)."""
    with transaction.atomic(durable=True):
        peer = Peer.objects.select_for_update(of=("self",)).get(pk=message.sender_id)
        store_peer_lists(peer, message.payload.get("lists", []))
