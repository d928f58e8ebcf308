"""Planner speed: the full hotel bundle, and a generated bundle of 200 items with 400 dependencies.

Rows: the pure planner on preloaded item specs (the hot path), the end-to-end plan including the
database reads of the bundle and the region's item versions, and a baseline of a bare topological sort
of the same graph (graphlib), all measured in this run.
"""

from __future__ import annotations

import random
from graphlib import TopologicalSorter

from benchmarks.harness import benchmark_database, measure, report

HOTEL = {"area_sqm": 800, "serves_food": True, "outdoor_sign": True, "central_ac": True}


def synthetic_bundle(n_items: int = 200, n_edges: int = 400, seed: int = 7):
    """Items i depend on earlier items through produced licences (400 dependencies), so the graph is a DAG."""
    from tongban.bundles.specs import FieldSpec, ItemSpec, MaterialSpec

    rng = random.Random(seed)
    edges: set[tuple[int, int]] = set()
    while len(edges) < n_edges:
        a, b = sorted(rng.sample(range(n_items), 2))
        edges.add((a, b))  # b needs a's result
    needs: dict[int, list[int]] = {i: [] for i in range(n_items)}
    for a, b in edges:
        needs[b].append(a)
    specs = {}
    for i in range(n_items):
        materials = [MaterialSpec(f"result-{a}", f"结果{a}", f"LT{a:04d}", "", "required", False, False) for a in needs[i]]
        materials += [MaterialSpec("id-card", "身份证", "LT-ID", "population", "required", False, False),
                      MaterialSpec(f"form-{i}", f"申请表{i}", None, "", "required", i % 3 == 0, False)]
        specs[f"{i:012d}"] = ItemSpec(
            basic_code=f"{i:012d}", implementation_code=f"impl-{i}", name=f"事项{i}", department_uscc=f"D{i % 40}",
            department_name=f"部门{i % 40}", statutory_days=5 + i % 15, promised_days=3, visits=i % 2,
            result_licence_type=f"LT{i:04d}", result_name=f"结果{i}",
            form=(FieldSpec("name", "名称", "string", "enterprise.name", True), FieldSpec(f"f{i}", f"字段{i}", "string", "", True)),
            materials=tuple(materials), version=1)
    definition = {"questionnaire": [{"key": "x", "type": "number", "label": "x"}],
                  "items": [{"key": f"i{i}", "item": f"{i:012d}", "include_if": {">=": [{"var": "x"}, 0]}} for i in range(n_items)]}
    return definition, specs, edges


def main() -> None:
    from tongban.bundles import planner
    from tongban.bundles.selectors import bundle_version_in_force, item_specs_for, plan_bundle
    from tongban.catalog.services import import_documents
    from tongban.core.demo import build_documents

    with benchmark_database() as db:
        import_documents(documents=build_documents())
        version = bundle_version_in_force("open-hotel", "421200")
        specs = item_specs_for(version, "421200")
        bundle = {"code": "open-hotel", "name": version.bundle.name, "version": version.version}
        hotel_graph = {bi["key"]: set() for bi in version.definition["items"]}

        def plan_hotel_pure():
            planner.make_plan(bundle=bundle, definition=version.definition, region_code="421200", answers=HOTEL, items=specs)

        rows = [
            measure("baseline: graphlib toposort, hotel graph", lambda: list(TopologicalSorter(hotel_graph).static_order()), runs=2000),
            measure("hotel plan, planner only", plan_hotel_pure, runs=1000),
            measure(f"hotel plan, with database reads ({db.vendor})", lambda: plan_bundle("open-hotel", "421200", HOTEL), runs=200),
        ]
        report("one-thing planner: full hotel bundle (9 items)", rows, baseline="hotel plan, planner only")

        definition, big_specs, edges = synthetic_bundle()
        graph: dict[str, set[str]] = {f"i{i}": set() for i in range(200)}
        for a, b in edges:
            graph[f"i{b}"].add(f"i{a}")
        big_specs_by_code = big_specs

        def plan_big():
            planner.make_plan(bundle={"code": "synthetic"}, definition=definition, region_code="000000", answers={"x": 1},
                              items=big_specs_by_code)

        plan = planner.make_plan(bundle={"code": "synthetic"}, definition=definition, region_code="000000", answers={"x": 1},
                                 items=big_specs_by_code)
        assert len(plan["items"]) == 200 and sum(len(i["after"]) for i in plan["items"]) == len(edges)
        rows = [
            measure("baseline: graphlib toposort, 200 items/400 deps", lambda: list(TopologicalSorter(graph).static_order()), runs=300),
            measure("generated plan, 200 items / 400 dependencies", plan_big, runs=100),
        ]
        report("one-thing planner: generated bundle", rows, baseline="baseline: graphlib toposort, 200 items/400 deps")
        print(f"stages in the generated plan: {plan['metrics']['stages']}; aims: hotel < 2 ms, generated < 50 ms")


if __name__ == "__main__":
    main()
