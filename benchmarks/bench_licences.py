"""Licence signing and verification, in-process, against the bare library calls of the same run.

    cd /work/main && .venv/bin/python -m benchmarks bench_licences

For Ed25519 and SM2/SM3:
- bare sign / bare verify: the library call alone (cryptography / tongsuopy) on the same payload;
- key-store sign: `keystore.sign_with` (decrypted key cached in process);
- issue: the whole `issue_licence` service (validation, serial and index under row locks, signing,
  audit entry, one transaction);
- full verify (db trust): `verify_licence_document` with a region's trust from the database
  (well-formed check with the GB/T 36904 check character, trust lookup, signature, key validity,
  status list, dates), caches warm;
- full verify (offline): the same from an export bundle and a trust bundle (status snapshot
  signature checked, cached by content).
Target: full verification at least half the bare verify rate (ratio of medians <= 2.0x).
Each case is measured in ROUNDS interleaved rounds and its best median kept (the machine is shared).
"""

from __future__ import annotations

from datetime import date

from benchmarks.harness import Result, benchmark_database, measure, report

ROUNDS = 5


def _uscc(n: int, region: str, kind: str = "11") -> str:
    from stdnum.cn import uscc

    body = f"{kind}{region}{n:09d}"[:17]
    return body + uscc.calc_check_digit(body)


def _setup(algorithm: str, n: int):
    from tongban.accounts.models import Enterprise, User
    from tongban.catalog.models import LicenceType
    from tongban.licences import keystore, services, trust
    from tongban.regions.models import Department, Region

    region, _ = Region.objects.get_or_create(code="430100", defaults={"name": "长沙市", "level": "city"})
    department = Department.objects.create(uscc=_uscc(100 + n, "430100"), name=f"市场监督管理局{n}",
                                           kind="market_regulation", region=region)
    keystore.create_key(department=department, algorithm=algorithm)
    licence_type = LicenceType.objects.create(code=_uscc(900 + n, "100000") + "001", name=f"食品经营许可证{n}",
                                              holder_kind="001", validity_years=5,
                                              fields=["business_name", "address", "scope"])
    services.authorise_issuer(licence_type=licence_type, department=department)
    trust.add_trusted_issuer(region=region, department=department)
    user = User.objects.create(username=f"rep{n}", real_name="王五")
    enterprise = Enterprise.objects.create(uscc=_uscc(5000 + n, "430100", kind="91"), name=f"长沙饭馆{n}有限公司",
                                           legal_representative=user, region=region)

    def issue():
        return services.issue_licence(
            licence_type=licence_type, issuer=department, holder_code_type="001", holder_code=enterprise.uscc,
            holder_name=enterprise.name, data={"business_name": enterprise.name, "address": "长沙市岳麓区麓山路 1 号",
                                               "scope": "热食类食品制售"},
            valid_from=date(2025, 1, 1), source_ref="BENCH-1")
    return department, issue


def _bench(n: int, algorithm: str) -> tuple[str, float, float]:
    from tongban.licences import crypto, keystore, selectors, trust
    from tongban.licences.verification import trust_from_file, verify_licence_document

    label = {crypto.ED25519: "Ed25519", crypto.SM2_SM3: "SM2/SM3"}[algorithm]
    department, issue = _setup(algorithm, n)
    licence = issue()
    doc = selectors.licence_document(licence)
    export = selectors.export_bundle(licence)
    offline = trust_from_file(trust.export_trust_bundle("430100"))
    key = keystore.active_key(department=department)
    body = crypto.canonical_json(doc["payload"])

    private = crypto.generate_private_key(algorithm)
    public = crypto.load_public_key(algorithm, crypto.public_key_b64(algorithm, private))
    bare_sig = crypto.sign(algorithm, private, body)
    if algorithm == crypto.ED25519:
        def bare_sign():
            return private.sign(body)

        def bare_verify():
            return public.verify(bare_sig, body)
    else:
        def bare_sign():
            return private.sign(body, crypto._SM2_SIG)

        def bare_verify():
            return public.verify(bare_sig, body, crypto._SM2_SIG)

    assert verify_licence_document(doc, trust="430100").valid
    assert verify_licence_document(export, trust=offline).valid
    runs, batch = (100, 20) if algorithm == crypto.ED25519 else (60, 5)
    cases = [
        (f"{label} bare sign", bare_sign, runs, batch),
        (f"{label} key-store sign", lambda: keystore.sign_with(key, body), runs, batch),
        (f"{label} issue (service, db)", issue, 20, 1),
        (f"{label} bare verify", bare_verify, runs, batch),
        (f"{label} full verify (db trust)", lambda: verify_licence_document(doc, trust="430100"), runs, batch),
        (f"{label} full verify (offline bundle)", lambda: verify_licence_document(export, trust=offline), runs,
         batch),
    ]
    # The machine is shared: measure the cases interleaved over several rounds and keep each case's
    # best median, so a burst of load elsewhere does not land on one case only.
    best: dict[str, Result] = {}
    for _ in range(ROUNDS):
        for name, fn, case_runs, case_batch in cases:
            result = measure(name, fn, runs=case_runs, batch=case_batch, warmup=3)
            if name not in best or result.median_s < best[name].median_s:
                best[name] = result
    rows = [best[name] for name, *_ in cases]
    report(f"licence signing, {label} (vs bare sign)", rows[:3], baseline=f"{label} bare sign")
    report(f"licence verification, {label} (vs bare verify)", rows[3:], baseline=f"{label} bare verify")
    bare, full, offline_row = rows[3], rows[4], rows[5]
    return label, full.per_second / bare.per_second, offline_row.per_second / bare.per_second


def main() -> None:
    with benchmark_database():
        from tongban.licences import crypto

        summary = [_bench(n, algorithm) for n, algorithm in enumerate(crypto.ALGORITHMS, start=1)]
        print("\n## full verification rate as a share of the bare verify rate (target >= 0.50)")
        for label, db_share, offline_share in summary:
            flag = "ok" if min(db_share, offline_share) >= 0.5 else "BELOW TARGET"
            print(f"{label:<10} db trust {db_share:.2f}   offline {offline_share:.2f}   {flag}")


if __name__ == "__main__":
    main()
