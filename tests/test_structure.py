"""The package's structure (issue 12): no two modules import each other, even lazily
inside a function (a lazy import hides a cycle from Python but not from a reader)."""

from __future__ import annotations

import grimp


def test_no_two_modules_import_each_other() -> None:
    graph = grimp.build_graph("publisher", include_external_packages=False)
    cycles = sorted(
        {
            tuple(sorted((module, imported)))
            for module in graph.modules
            for imported in graph.find_modules_directly_imported_by(module)
            if graph.direct_import_exists(importer=imported, imported=module)
        }
    )
    assert cycles == []
