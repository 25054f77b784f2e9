"""The lineage graph over sources, seeds, models, snapshots and exposures.

Plain adjacency lists and the standard library's topological sorter: the checks need parents,
children, a topological order and upstream/downstream walks, nothing networkx adds; on a 20,000
model manifest building a networkx DiGraph alone costs more than the policy pass (bench/bench_check.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from itertools import chain
from graphlib import CycleError, TopologicalSorter

from python_checks.loader import ArtifactError, Manifest


class Lineage:
    """Parents/children of every lineage node; edges to nodes outside the manifest are dropped."""

    __slots__ = ("parents", "children", "order")

    def __init__(self, manifest: Manifest) -> None:
        nodes = manifest.nodes
        self.parents: dict[str, tuple[str, ...]] = {
            unique_id: tuple(dict.fromkeys(p for p in node.parents if p in nodes)) for unique_id, node in nodes.items()
        }
        self.children: dict[str, list[str]] = {unique_id: [] for unique_id in nodes}
        for unique_id, parents in self.parents.items():
            for parent in parents:
                self.children[parent].append(unique_id)
        #: Every node after all of its parents: policy propagation walks this once.
        self.order: tuple[str, ...] = self._topological_order()
        if len(self.order) < len(self.parents):
            try:  # only graphlib names the cycle
                TopologicalSorter(self.parents).prepare()
            except CycleError as error:
                cycle = " -> ".join(error.args[1])
                raise ArtifactError(f"manifest {manifest.path}: lineage has a cycle: {cycle}") from None

    def _topological_order(self) -> tuple[str, ...]:
        """graphlib's static_order (same order: ready nodes in waves), without its up-front cycle search.

        TopologicalSorter.prepare() looks for a cycle over the whole graph before yielding anything,
        a third of the lineage's cost on 20,000 models; here a cycle shows as nodes never reached.
        """
        waiting = {unique_id: len(parents) for unique_id, parents in self.parents.items()}
        # graphlib starts from its roots in the order it first met each node: as a key, then as a parent.
        first_met = dict.fromkeys(chain.from_iterable((unique_id, *parents) for unique_id, parents in self.parents.items()))
        wave = [unique_id for unique_id in first_met if not waiting[unique_id]]
        order: list[str] = []
        while wave:
            order.extend(wave)
            ready = []
            for unique_id in wave:
                for child in self.children[unique_id]:
                    waiting[child] -= 1
                    if not waiting[child]:
                        ready.append(child)
            wave = ready
        return tuple(order)

    def edges(self) -> Iterator[tuple[str, str]]:
        """(parent, child) pairs in topological order of the child."""
        for child in self.order:
            for parent in self.parents[child]:
                yield parent, child

    def _walk(self, start: Iterable[str], step: dict[str, tuple[str, ...]] | dict[str, list[str]]) -> list[str]:
        seen: dict[str, None] = {}
        queue = deque(start)
        while queue:
            current = queue.popleft()
            for following in step[current]:
                if following not in seen:
                    seen[following] = None
                    queue.append(following)
        return list(seen)

    def upstream(self, unique_id: str) -> list[str]:
        """All ancestors, nearest first."""
        return self._walk([unique_id], self.parents)

    def downstream(self, unique_id: str) -> list[str]:
        """All descendants, nearest first."""
        return self._walk([unique_id], self.children)
