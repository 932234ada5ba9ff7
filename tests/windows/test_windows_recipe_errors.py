"""Bad recipes, annotation files and case lists: errors that name the key or line."""

from __future__ import annotations

import pytest

from vitalproc.windows import AnnotationError, RecipeError, load_recipe, parse_recipe
from vitalproc.windows.annotations import read_annotations
from vitalproc.windows.recipe import Annotations
from vitalproc.windows.shipped import shipped_names
from vitalproc.windows.sources import read_case_list

BASE = """
[[signals]]
name = "art"
tracks = ["SNUADC/ART"]
rate = 100

[windows]
length = 20
stride = 10
"""


def _toml(tmp_path, text):
    path = tmp_path / "r.toml"
    path.write_text(text)
    return path


def test_the_shipped_recipes_load():
    assert shipped_names() == ["hypotension_art", "hypotension_map", "rhythm_windows"]
    for name in shipped_names():
        r = load_recipe(name)
        assert r.name == name and r.description
    art = load_recipe("hypotension_art")
    assert [x.rule for x in art.rules] == [
        "nan_fraction",
        "above",
        "below",
        "peak_to_peak",
        "max_jump",
    ]
    assert art.windows.end == "exclusive"
    assert load_recipe("hypotension_map").signals[0].step == 30


@pytest.mark.parametrize(
    "extra, key, words",
    [
        ("colour = 1\n", "windows.colour", "unknown key"),  # (appended into [windows])
        ("[split]\nseeed = 3\n", "split.seeed", "unknown key"),
        (
            "[[labels]]\nname = 'y'\nkind = 'regression'\nsignal = 'ecg'\nover = 'input'\n",
            "labels[0].signal",
            "'ecg' is not one of the recipe's signals",
        ),
        (
            "[[labels]]\nname = 'y'\nkind = 'event'\nsignal = 'art'\nthreshold = 65\n"
            "over = 'target'\n",
            "labels[0].over",
            "'target' needs windows.horizon",
        ),
        ("[[rules]]\nrule = 'nan_fraction'\nvalue = 1.5\n", "rules[0].value", "at most 1"),
        ("[[rules]]\nrule = 'spikes'\nvalue = 1\n", "rules[0].rule", "is not one of"),
        ("[split]\ntrain = 0.5\n", "split.train", "must be 1"),
    ],
)
def test_bad_keys_are_named(tmp_path, extra, key, words):
    with pytest.raises(
        RecipeError,
        match=r"r\.toml: " + key.replace("[", r"\[").replace("]", r"\]") + ": .*" + words,
    ):
        load_recipe(_toml(tmp_path, BASE + extra))


@pytest.mark.parametrize(
    "change, key, words",
    [
        ("stride = 10", "windows.stride", "must be > 0, not 0"),
        ("rate = 100", "signals[0].rate", "must be > 0, not -5"),
        ("length = 20", "windows.length", "must be float, not 'long'"),
    ],
)
def test_impossible_values_are_named(tmp_path, change, key, words):
    bad = {
        "windows.stride": "stride = 0",
        "signals[0].rate": "rate = -5",
        "windows.length": "length = 'long'",
    }[key]
    with pytest.raises(
        RecipeError, match=key.replace("[", r"\[").replace("]", r"\]") + ": " + words
    ):
        load_recipe(_toml(tmp_path, BASE.replace(change, bad)))


def test_unknown_top_level_key(tmp_path):
    with pytest.raises(RecipeError, match=r"r\.toml: sigals: unknown key"):
        load_recipe(_toml(tmp_path, "sigals = 1\n" + BASE))


def test_a_lead_needs_a_horizon(tmp_path):
    with pytest.raises(RecipeError, match=r"windows\.lead: a lead needs a horizon"):
        load_recipe(_toml(tmp_path, BASE + "lead = 60\n"))


def test_toml_syntax_error_names_the_line(tmp_path):
    with pytest.raises(RecipeError, match=r"r\.toml: .*line 3"):
        load_recipe(_toml(tmp_path, "name = 'x'\n\nrate = = 3\n"))


def test_unknown_recipe_name_lists_the_shipped_ones():
    with pytest.raises(RecipeError, match="shipped: hypotension_art, hypotension_map"):
        load_recipe("hypotension_ecg")


def test_a_dict_recipe_is_parsed_alike():
    import tomllib

    r = parse_recipe(tomllib.loads(BASE))
    assert r.signals[0].tracks == ("SNUADC/ART",) and r.windows.stride == 10
    with pytest.raises(RecipeError, match="recipe: signals: missing"):
        parse_recipe({"windows": {"length": 1, "stride": 1}})


def test_recipe_digest_follows_the_content(tmp_path):
    a = load_recipe(_toml(tmp_path, BASE))
    b = load_recipe(_toml(tmp_path, BASE.replace("stride = 10", "stride = 10.0  # same")))
    c = load_recipe(_toml(tmp_path, BASE.replace("stride = 10", "stride = 5")))
    assert a.digest() == b.digest() != c.digest()


@pytest.mark.parametrize(
    "text, where",
    [
        ("time,class\n0,sinus\nten,af\n", r":3: time 'ten' is not a number"),
        ("start,class\n0,sinus\n", r":1: no column 'time'"),
        ("time,class\n0,sinus\n5\n", r":3: 1 fields"),
        ("time,class\n0,\n", r":2: no class"),
        ("", "empty file"),
    ],
)
def test_annotation_errors_name_the_line(tmp_path, text, where):
    path = tmp_path / "x.rhythm.csv"
    path.write_text(text)
    with pytest.raises(AnnotationError, match=where):
        read_annotations(str(path), Annotations())


def test_case_lists(tmp_path):
    (tmp_path / "a.csv").write_text("caseid,age\n1,40\n2,50\nc3.vital,60\n")
    (tmp_path / "b.txt").write_text("# cohort\n1\n\n2\n")
    (tmp_path / "c.csv").write_text("id,age\n1,40\n")
    assert read_case_list(str(tmp_path / "a.csv")) == ["1", "2", "c3"]
    assert read_case_list(str(tmp_path / "b.txt")) == ["1", "2"]
    with pytest.raises(ValueError, match=r"c\.csv:1: .*'caseid' column"):
        read_case_list(str(tmp_path / "c.csv"))
