"""The side-by-side page: both backward passes on the same graph, the first diverging node marked."""

from __future__ import annotations

import json
import re

import numpy as np
from exercise_solutions import WRONG, engine_solution, find

from autograd_lite.exercises.exercise import Case
from autograd_lite.exercises.grader import grade
from autograd_lite.exercises.page import side_by_side
from autograd_lite.ops import Matmul, Sigmoid


def page_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, flags=re.DOTALL)
    assert found is not None
    return json.loads(found.group(1))


def diverging(page: str) -> list[str]:
    return re.findall(r'<g id="(n\d+)" class="node diverging">', page)


def test_a_wrong_sigmoid_diverges_at_its_own_node_and_the_nodes_before_it_agree() -> None:
    class Wrong(Sigmoid):
        vjps = (lambda g, out, a: g * out,)

    case = Case((np.array([-1.0, 0.5, 2.0]),), lambda t: t.sigmoid())
    page = side_by_side(find("sigmoid"), Wrong, case, "summary </script> <b>")
    data = page_data(page)
    first = data["first"]
    assert diverging(page) == [first]
    row = next(row for row in data["rows"] if row["node"] == first)
    assert row["op"] == "Sigmoid" and row["engine"][0] == row["learner"][0]  # the same upstream arrived
    assert row["engine"][1] != row["learner"][1]  # and it sent something else
    earlier = data["rows"][: data["rows"].index(row)]
    assert earlier and all(r["status"] == "same as the engine" for r in earlier)
    assert "summary &lt;/script&gt; &lt;b&gt;" in page  # text is escaped
    assert not re.search(r"(src|href)=|https?://(?!www.w3.org/2000/svg)", page)  # nothing loaded from outside


def test_a_right_solution_has_no_diverging_node() -> None:
    case = Case((np.ones((2, 3)), np.ones((3, 2))), lambda a, b: a @ b)
    page = side_by_side(find("matmul"), Matmul, case, "")
    assert diverging(page) == [] and page_data(page)["first"] is None


def test_an_error_in_the_learners_vjp_shows_on_the_page() -> None:
    class Broken(Sigmoid):
        vjps = (lambda g, out, a: g @ np.ones((7, 7)),)

    page = side_by_side(find("sigmoid"), Broken, Case((np.array([1.0, 2.0]),), lambda t: t.sigmoid()), "")
    assert "ValueError" in page and len(diverging(page)) == 1


def test_the_two_layer_page_marks_the_node_that_first_sent_a_wrong_gradient() -> None:
    exercise = find("two_layer")
    wrong = next(solution for name, label, solution in WRONG if label == "missing sigmoid derivative")
    result = grade(exercise, wrong)
    page = side_by_side(exercise, wrong, result.failure.case, "")
    data = page_data(page)
    row = next(row for row in data["rows"] if row["node"] == data["first"])
    assert row["op"] == "Sigmoid"  # the sigmoid node sends dL/dz1: that is where the slip is
    assert [label for label, _ in row["engine"]] == ["dL/dz1"]
    right = side_by_side(exercise, engine_solution(exercise), result.failure.case, "")
    assert diverging(right) == []
