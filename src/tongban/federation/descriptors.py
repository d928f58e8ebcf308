"""Signed node descriptors: how peers are introduced (docs/federation.md §1).

A node exports its descriptor (code, URL, regions, public keys, offered items) signed by its node
key, and counter-signed by the previous key after a rotation; an operator imports a peer's file
after checking the signing key's fingerprint out of band. Nothing is learnt from a URL."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from tongban.core.errors import InvalidInput, Problem
from tongban.licences import crypto

from . import conf, keys
from .envelope import DESCRIPTOR_V, iso, parse_iso, verify_signature
from .models import AgreedItem, NodeKey, Peer, PeerKey
from .trustlists import own_trust_lists, store_peer_lists


def _p(field: str, rule: str, zh: str, en: str) -> Problem:
    return Problem(field=field, rule=rule, zh=zh, en=en)


def current_offers(extra: list[str] | None = None) -> list[dict]:
    """This node's items open for cross-region handling: published versions in force today whose
    通办范围 is not `none`, in the regions it serves; `extra` ("CODE" or "CODE:VERSION") adds items
    by implementation code (or, for a node without a catalogue, names them outright)."""
    from tongban.catalog.models import Item, ItemVersion
    from tongban.catalog.selectors import version_in_force

    today = timezone.localdate()
    offers: dict[tuple[str, int], dict] = {}
    items = Item.objects.filter(region_id__in=conf.node_regions()).order_by("implementation_code")
    for item in items:
        version = version_in_force(item, today)
        if version is not None and version.cross_region_scope != ItemVersion.CrossRegionScope.NONE:
            offers[(item.implementation_code, version.version)] = {
                "basic_code": item.basic_code, "item_code": item.implementation_code, "version": version.version,
                "name": version.name, "region": item.region_id}
    for spec in extra or []:
        code, _, ver = spec.partition(":")
        item = Item.objects.filter(implementation_code=code).first()
        version = int(ver) if ver else (version_in_force(item, today).version if item and version_in_force(item, today) else 1)
        offers[(code, version)] = {"basic_code": item.basic_code if item else "", "item_code": code, "version": version,
                                   "name": item.name if item else "", "region": item.region_id if item else ""}
    return [offers[k] for k in sorted(offers)]


def own_offers(offers: list[str] | None = None, only_listed: bool = False) -> list[dict]:
    offered = current_offers(offers)
    if only_listed:
        wanted = {o.partition(":")[0] for o in offers or []}
        offered = [o for o in offered if o["item_code"] in wanted]
    return offered


def export_descriptor(*, offers: list[str] | None = None, only_listed: bool = False) -> dict:
    """This node's signed descriptor. `offers` adds items; with `only_listed`, only those are offered."""
    if not conf.enabled():
        raise InvalidInput(_p("TONGBAN_NODE_CODE", "fed.node", "本部署未配置节点代码", "TONGBAN_NODE_CODE is not set"))
    key = keys.ensure_node_key()
    now = timezone.now()
    valid = NodeKey.objects.filter(status__in=[NodeKey.Status.ACTIVE, NodeKey.Status.RETIRED]).order_by("valid_from", "id")
    listed = [k for k in valid if k.valid_until is None or k.valid_until > now]
    offered = own_offers(offers, only_listed)
    body = {"format": DESCRIPTOR_V, "node": conf.node_code(), "name": conf.node_name(), "url": conf.node_url(),
            "regions": conf.node_regions(), "reachable": conf.reachable(),
            "keys": [k.public_entry() for k in listed], "offers": offered, "trust_lists": own_trust_lists(),
            "issued_at": iso(now)}
    document = {"descriptor": body,
                "signature": {"key_id": key.key_id, "algorithm": key.algorithm, "value": keys.sign(key, body)}}
    previous = next((k for k in reversed(listed) if k.status == NodeKey.Status.RETIRED), None)
    if previous is not None:
        document["endorsement"] = {"key_id": previous.key_id, "algorithm": previous.algorithm,
                                   "value": keys.sign(previous, body)}
    return document


def _check_shape(document: object) -> list[Problem]:
    if not isinstance(document, dict) or not isinstance(document.get("descriptor"), dict) \
            or not isinstance(document.get("signature"), dict):
        return [_p("descriptor", "fed.descriptor", "不是节点描述文件", "not a node descriptor")]
    body, problems = document["descriptor"], []
    if body.get("format") != DESCRIPTOR_V:
        problems.append(_p("descriptor.format", "fed.descriptor", "描述格式不受支持", "unsupported descriptor format"))
    if not isinstance(body.get("node"), str) or not conf.NODE_CODE_RE.match(body["node"]):
        problems.append(_p("descriptor.node", "fed.descriptor", "节点代码格式错误", "node code is malformed"))
    if not isinstance(body.get("url"), str) or not body["url"].startswith(("http://", "https://")):
        problems.append(_p("descriptor.url", "fed.descriptor", "节点地址必须是 http(s) 地址", "url must be http(s)"))
    if not isinstance(body.get("regions"), list) or not all(isinstance(r, str) for r in body["regions"]):
        problems.append(_p("descriptor.regions", "fed.descriptor", "服务区划必须是代码列表", "regions must be a list of codes"))
    if not isinstance(body.get("keys"), list) or not body["keys"]:
        problems.append(_p("descriptor.keys", "fed.descriptor", "至少需要一把公钥", "at least one public key"))
    else:
        for i, k in enumerate(body["keys"]):
            try:
                crypto.load_public_key(k["algorithm"], k["public_key"])
                parse_iso(k["valid_from"])
                if k.get("valid_until") is not None:
                    parse_iso(k["valid_until"])
                assert isinstance(k["key_id"], str) and 0 < len(k["key_id"]) <= 80
            except (KeyError, TypeError, ValueError, AssertionError, crypto.UnknownAlgorithm):
                problems.append(_p(f"descriptor.keys.{i}", "fed.descriptor", "公钥条目无效", "invalid key entry"))
    if not isinstance(body.get("offers"), list):
        problems.append(_p("descriptor.offers", "fed.descriptor", "事项清单必须是列表", "offers must be a list"))
    else:
        for i, o in enumerate(body["offers"]):
            if not (isinstance(o, dict) and isinstance(o.get("item_code"), str) and 0 < len(o["item_code"]) <= 31
                    and isinstance(o.get("version"), int) and o["version"] >= 1):
                problems.append(_p(f"descriptor.offers.{i}", "fed.descriptor", "事项条目无效", "invalid offer entry"))
    lists = body.get("trust_lists", [])
    if not isinstance(lists, list) or len(lists) > 50 or not all(isinstance(t, dict) for t in lists):
        problems.append(_p("descriptor.trust_lists", "fed.descriptor", "信任列表必须是签名文档的列表",
                           "trust_lists must be a list of signed trust-list documents"))
    try:
        parse_iso(body.get("issued_at"))
    except ValueError:
        problems.append(_p("descriptor.issued_at", "fed.descriptor", "签发时间格式错误", "issued_at is malformed"))
    return problems


def _verifies(sig: object, body: dict, candidates: dict[str, tuple[str, str]]) -> str | None:
    """The key id whose key verifies `sig` over `body`, among `candidates` (key id → (alg, public key))."""
    if not isinstance(sig, dict) or sig.get("key_id") not in candidates:
        return None
    algorithm, public = candidates[sig["key_id"]]
    if sig.get("algorithm") != algorithm or not isinstance(sig.get("value"), str):
        return None
    return sig["key_id"] if verify_signature(algorithm, public, sig["value"], body) else None


@transaction.atomic(durable=True)
def import_descriptor(document: object, *, fingerprint: str = "", trust_on_first_use: bool = False,
                      offers: list[str] | None = None, only_listed: bool = False) -> Peer:
    """Record (or update) a peer from its signed descriptor, with the agreed list: the peer's offers
    and this node's own (`offers`/`only_listed` as for `export_descriptor`). Raises InvalidInput."""
    problems = _check_shape(document)
    if problems:
        raise InvalidInput(problems)
    body = document["descriptor"]
    if body["node"] == conf.node_code():
        raise InvalidInput(_p("descriptor.node", "fed.descriptor.self", "不能导入本节点自己的描述",
                              "this is this node's own descriptor"))
    own = {k["key_id"]: (k["algorithm"], k["public_key"]) for k in body["keys"]}
    if _verifies(document["signature"], body, own) is None:
        raise InvalidInput(_p("signature", "fed.descriptor.signature", "描述文件签名无效（自签名不成立）",
                              "the descriptor's self-signature does not verify"))
    issued_at = parse_iso(body["issued_at"])
    peer = Peer.objects.select_for_update(of=("self",)).filter(code=body["node"]).first()
    signer = document["signature"]["key_id"]
    signer_fp = crypto.key_fingerprint(own[signer][1])
    confirmed = bool(fingerprint) and fingerprint.lower().replace(":", "") == signer_fp
    if fingerprint and not confirmed:
        raise InvalidInput(_p("fingerprint", "fed.descriptor.fingerprint", "签名密钥指纹与线下核对的指纹不一致",
                              "the signing key's fingerprint differs from the one confirmed out of band"))
    if peer is not None:
        if issued_at <= peer.descriptor_issued_at:
            raise InvalidInput(_p("descriptor.issued_at", "fed.descriptor.stale", "描述文件不比已导入的更新",
                                  "the descriptor is not newer than the one already imported"))
        known = {k.key_id: (k.algorithm, k.public_key) for k in peer.keys.all()}
        endorsed = _verifies(document["signature"], body, known) or _verifies(document.get("endorsement"), body, known)
        if not (endorsed or confirmed or trust_on_first_use):
            raise InvalidInput(_p("signature", "fed.descriptor.untrusted", "新描述文件未由已信任的密钥签名，请核对指纹",
                                  "the new descriptor is not signed by a trusted key: confirm its fingerprint"))
    elif not (confirmed or trust_on_first_use):
        raise InvalidInput(_p("fingerprint", "fed.descriptor.fingerprint", "首次导入必须核对签名密钥指纹",
                              "a first import needs the signing key's fingerprint (--fingerprint)"))
    fields = {"name": str(body.get("name", ""))[:100], "url": body["url"].rstrip("/"), "regions": body["regions"],
              "reachable": bool(body.get("reachable", True)), "descriptor": document,
              "descriptor_issued_at": issued_at, "imported_at": timezone.now()}
    if peer is None:
        peer = Peer.objects.create(code=body["node"], **fields)
    else:
        for name, value in fields.items():
            setattr(peer, name, value)
        peer.save(update_fields=list(fields))
    _replace_keys(peer, body["keys"])
    _replace_agreed_items(peer, body["offers"], own_offers(offers, only_listed))
    trust = store_peer_lists(peer, body.get("trust_lists", []))
    from tongban.audit.services import append_entry

    append_entry(action="federation.peer.import", object_type="federation.peer", object_id=peer.code,
                 after={"url": peer.url, "regions": peer.regions, "keys": sorted(own),
                        "offers": len(body["offers"]), "signer_fingerprint": signer_fp,
                        "trust_lists": trust["stored"]})
    return peer


def _replace_keys(peer: Peer, entries: list[dict]) -> None:
    listed = {k["key_id"] for k in entries}
    PeerKey.objects.filter(peer=peer).exclude(key_id__in=listed).delete()  # keys no longer listed lose trust
    for k in entries:
        PeerKey.objects.update_or_create(peer=peer, key_id=k["key_id"], defaults={
            "algorithm": k["algorithm"], "public_key": k["public_key"], "valid_from": parse_iso(k["valid_from"]),
            "valid_until": parse_iso(k["valid_until"]) if k.get("valid_until") else None})


def _replace_agreed_items(peer: Peer, offers: list[dict], own: list[dict]) -> None:
    """The agreed list with `peer`: its offers (it handles, we accept at our windows, matched to our
    item of the same basic code) and our current offers (we handle for it)."""
    from tongban.catalog.models import Item

    AgreedItem.objects.filter(peer=peer).delete()
    local_by_basic: dict[str, str] = {}
    for code, basic in Item.objects.filter(region_id__in=conf.node_regions()).values_list("implementation_code",
                                                                                         "basic_code"):
        local_by_basic.setdefault(basic, code)
    rows = [AgreedItem(peer=peer, handled_by=AgreedItem.HandledBy.PEER, basic_code=str(o.get("basic_code", ""))[:12],
                       item_code=o["item_code"], version=o["version"], name=str(o.get("name", ""))[:200],
                       region=str(o.get("region", ""))[:6],
                       local_item_code=local_by_basic.get(o.get("basic_code", ""), ""))
            for o in offers]
    rows += [AgreedItem(peer=peer, handled_by=AgreedItem.HandledBy.SELF, basic_code=o["basic_code"],
                        item_code=o["item_code"], version=o["version"], name=o["name"], region=o["region"])
             for o in own]
    AgreedItem.objects.bulk_create(rows, ignore_conflicts=True)
