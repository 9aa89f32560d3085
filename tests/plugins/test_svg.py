"""Provenance graphs drawn as SVG: sources left, every node a link, text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from airflow_pachyderm.plugins.svg import Node, draw, layers

SVG = "{http://www.w3.org/2000/svg}"


def test_layers_put_each_node_right_of_its_inputs_and_sources_next_to_readers() -> None:
    nodes = [Node(n, n) for n in ("training", "code", "model", "attributes", "inference")]
    edges = [("training", "model", "training"), ("code", "model", "code"),
             ("model", "inference", "model"), ("attributes", "inference", "attributes"),
             ("code", "inference", "code")]
    assert layers(nodes, edges) == {
        "training": 0, "code": 0, "attributes": 1, "model": 1, "inference": 2,
    }


def test_drawing_is_valid_svg_with_links_and_escaped_text() -> None:
    nodes = [Node("a", "<script>", "x & y", "/pachyderm/a?x=1&y=2", "root"), Node("b", "b")]
    svg = draw(nodes, [("a", "b", "in<put>")])
    root = ET.fromstring(svg)  # well-formed: every text escaped
    links = root.findall(f".//{SVG}a")
    assert [a.get("href") for a in links] == ["/pachyderm/a?x=1&y=2"]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<script>" in texts and "in<put>" in texts


def test_a_cycle_does_not_hang_the_layout() -> None:
    nodes = [Node("a", "a"), Node("b", "b")]
    assert set(layers(nodes, [("a", "b", ""), ("b", "a", "")])) == {"a", "b"}
