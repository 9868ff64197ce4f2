import gc
import weakref

from tests import gc_tuning


class Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_the_test_processes_run_with_the_tuned_collector():
    # tests/conftest.py tunes every test process once its tests are collected
    assert gc.get_threshold() == gc_tuning.THRESHOLDS
    assert gc.get_freeze_count() > 10_000  # Django, the project and the tests, never scanned again


def test_cyclic_garbage_is_still_collected_without_an_explicit_collect():
    node = Node()
    gone = weakref.ref(node)
    del node
    assert gone() is not None  # a cycle outlives its last name
    keep = [[] for _ in range(3 * gc_tuning.THRESHOLDS[0])]  # allocations enough for young passes
    assert gone() is None
    del keep
