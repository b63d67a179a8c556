"""The ``:name`` → ``$n`` translator, on nasty inputs; no database needed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentsdb import ConfigurationError
from agentsdb.db.placeholders import translate

_uncached = translate.__wrapped__


def sql_of(text: str) -> str:
    return translate(text).sql


# --- placeholders --------------------------------------------------------------------------------


def test_named_placeholders_become_numbered_in_order_of_first_use() -> None:
    translated = translate("SELECT * FROM t WHERE a = :a AND b = :b_2 AND c=:_c")
    assert translated.sql == "SELECT * FROM t WHERE a = $1 AND b = $2 AND c=$3"
    assert translated.names == ("a", "b_2", "_c")


def test_a_name_used_twice_maps_to_the_same_number() -> None:
    translated = translate("SELECT :a + :b, :a * 2 WHERE x IN (:b,:a)")
    assert translated.sql == "SELECT $1 + $2, $1 * 2 WHERE x IN ($2,$1)"
    assert translated.names == ("a", "b")
    assert translated.bind({"a": 1, "b": 2}) == [1, 2]


def test_placeholders_directly_after_punctuation_are_translated() -> None:
    assert sql_of("INSERT INTO t VALUES(:a,:b);") == "INSERT INTO t VALUES($1,$2);"
    assert sql_of("x=:a") == "x=$1"
    assert sql_of("f(:a)||:b") == "f($1)||$2"


def test_statement_without_placeholders_is_returned_unchanged() -> None:
    text = "SELECT 'a:b' AS x, now()::date"
    translated = translate(text)
    assert translated.sql is text
    assert translated.names == ()
    assert translated.bind(None) == []
    assert translated.bind({"unused": 1}) == []


def test_translation_is_cached_per_sql_string() -> None:
    text = "SELECT :cached_once"
    assert translate(text) is translate(text)


# --- what is not a placeholder -------------------------------------------------------------------


def test_string_literals_with_doubled_quotes_are_skipped() -> None:
    assert sql_of("SELECT 'it''s :not', :yes") == "SELECT 'it''s :not', $1"
    assert sql_of("SELECT '''', ':x''', :yes") == "SELECT '''', ':x''', $1"


def test_backslash_is_an_ordinary_character_in_standard_strings() -> None:
    # standard_conforming_strings: 'C:\' is a complete literal.
    assert sql_of(r"SELECT 'C:\', :yes") == r"SELECT 'C:\', $1"


def test_escape_strings_honour_backslash_escapes() -> None:
    assert sql_of(r"SELECT E'\' :not', :yes") == r"SELECT E'\' :not', $1"
    assert sql_of(r"SELECT e'a\\', :yes") == r"SELECT e'a\\', $1"
    assert sql_of(r"SELECT E'x''\':no', :yes") == r"SELECT E'x''\':no', $1"


def test_a_word_ending_in_e_before_a_string_is_not_an_escape_string() -> None:
    # The typed literal DATE'...' is a plain string: its backslash escapes nothing.
    assert sql_of(r"SELECT DATE'2020-01-01\', :yes") == r"SELECT DATE'2020-01-01\', $1"


def test_dollar_quoted_strings_are_skipped() -> None:
    assert sql_of("SELECT $$ :not 'x $$, :yes") == "SELECT $$ :not 'x $$, $1"
    body = "$fn$ BEGIN RETURN $$ :inner $$ || ':q'; END $fn$"
    assert sql_of(f"CREATE FUNCTION f() RETURNS text AS {body} LANGUAGE plpgsql; SELECT :y") == (
        f"CREATE FUNCTION f() RETURNS text AS {body} LANGUAGE plpgsql; SELECT $1"
    )


def test_dollar_signs_inside_identifiers_do_not_open_a_quote() -> None:
    assert sql_of("SELECT a$b$c, x$ FROM t WHERE y = :y") == "SELECT a$b$c, x$ FROM t WHERE y = $1"


def test_quoted_identifiers_are_skipped() -> None:
    text = 'SELECT "a:b", "say ""hi"" :x" FROM "t:1" WHERE c = :c'
    assert sql_of(text) == 'SELECT "a:b", "say ""hi"" :x" FROM "t:1" WHERE c = $1'


def test_line_comments_are_skipped_to_the_end_of_the_line() -> None:
    assert sql_of("SELECT 1 -- :not ' \n, :yes") == "SELECT 1 -- :not ' \n, $1"
    assert sql_of("SELECT :a -- trailing :b") == "SELECT $1 -- trailing :b"


def test_block_comments_nest_as_in_postgresql() -> None:
    text = "SELECT /* :no /* nested :no */ still :no ' */ :yes"
    assert sql_of(text) == "SELECT /* :no /* nested :no */ still :no ' */ $1"
    assert translate(text).names == ("yes",)


def test_casts_stay_and_a_placeholder_before_a_cast_is_translated() -> None:
    assert sql_of("SELECT x::int, y::text[]") == "SELECT x::int, y::text[]"
    assert sql_of("SELECT :id::int, :tags::text[]") == "SELECT $1::int, $2::text[]"
    assert sql_of("SELECT CAST(:v AS jsonb)->>'k'") == "SELECT CAST($1 AS jsonb)->>'k'"


def test_array_slices_are_not_placeholders() -> None:
    assert sql_of("SELECT a[1:2], a[lo:hi], a[1 : 3]") == "SELECT a[1:2], a[lo:hi], a[1 : 3]"
    assert sql_of("SELECT a[1: :hi]") == "SELECT a[1: $1]"


def test_named_argument_notation_is_not_a_placeholder() -> None:
    assert sql_of("SELECT f(a := :v, b => :w)") == "SELECT f(a := $1, b => $2)"


def test_unterminated_literals_and_comments_swallow_the_rest_without_error() -> None:
    for text in ("SELECT ':x", 'SELECT ":x', "SELECT $$ :x", "SELECT /* :x /* */ :y", "E'\\"):
        assert sql_of(text) == text


def test_returning_is_found_only_outside_literals_and_comments() -> None:
    assert translate("INSERT INTO t (a) VALUES (:a) RETURNING id").returning
    assert translate("delete from t returning *").returning
    assert not translate("INSERT INTO t (note) VALUES ('RETURNING')").returning
    assert not translate('UPDATE t SET "returning" = 1 -- RETURNING').returning
    assert not translate("UPDATE t SET returning_soon = 1").returning


def test_statements_that_change_session_state_are_flagged() -> None:
    assert translate("SET search_path = app").touches_session
    assert translate("/* hi */ reset all").touches_session
    assert translate("SELECT pg_try_advisory_lock(:key)").touches_session
    assert translate("SELECT pg_catalog.pg_advisory_lock(1)").touches_session
    assert translate("SELECT set_config('a.b', 'c', false)").touches_session
    assert not translate("UPDATE t SET x = 1").touches_session
    assert not translate("SELECT pg_advisory_xact_lock(1)").touches_session
    assert not translate("SELECT 'pg_advisory_lock(1)'").touches_session


# --- binding -------------------------------------------------------------------------------------


def test_missing_parameter_is_a_configuration_error_naming_it() -> None:
    translated = translate("UPDATE t SET a = :a, b = :b WHERE id = :id")
    with pytest.raises(ConfigurationError, match=r"missing SQL parameter\(s\) 'b', 'id'"):
        translated.bind({"a": 1})
    with pytest.raises(ConfigurationError, match="needs the parameter"):
        translated.bind(None)


def test_extra_parameters_are_ignored() -> None:
    assert translate("SELECT :a").bind({"a": 1, "unused": 2}) == [1]


def test_positional_parameters_are_rejected_outside_literals() -> None:
    with pytest.raises(ConfigurationError, match=r"positional parameter \$1"):
        translate("SELECT * FROM t WHERE id = $1")
    assert sql_of("SELECT '$1', $$ $1 $$, \"$1\", :a -- $1") == (
        "SELECT '$1', $$ $1 $$, \"$1\", $1 -- $1"
    )


def test_everything_at_once() -> None:
    text = (
        "WITH x AS (SELECT $tag$ it's $$ :no $tag$ AS body, ':no' AS s, \":no\" AS q) "
        "/* ' /* :no */ */ SELECT a[1:2], :first::int, E'\\':no', x.* -- ':no'\n"
        "FROM x WHERE y = :second AND z = :first"
    )
    translated = translate(text)
    assert translated.names == ("first", "second")
    assert translated.sql == (
        "WITH x AS (SELECT $tag$ it's $$ :no $tag$ AS body, ':no' AS s, \":no\" AS q) "
        "/* ' /* :no */ */ SELECT a[1:2], $1::int, E'\\':no', x.* -- ':no'\n"
        "FROM x WHERE y = $2 AND z = $1"
    )


# --- properties ----------------------------------------------------------------------------------

_NAMES = st.sampled_from(["a", "b", "id", "name_2", "_x", "Mixed"])
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


def _dollar_quoted(body: str) -> str | None:
    quoted = f"$q${body}$q$"
    return quoted if quoted.find("$q$", 3) == 3 + len(body) else None


def _block_comment(body: str) -> str | None:
    comment = f"/*{body}*/"
    closes_at_end = comment.find("*/", 2) == len(comment) - 2
    return comment if closes_at_end and comment.find("/*", 1) == -1 else None


# Each fragment: (SQL text, placeholder name or None). Fragments are joined with spaces.
_OPAQUE = st.one_of(
    _TEXT.map(lambda t: "'" + t.replace("'", "''") + "'"),
    _TEXT.map(lambda t: "E'" + t.replace("\\", "\\\\").replace("'", "\\'") + "'"),
    _TEXT.map(lambda t: '"' + t.replace('"', '""') + '"'),
    _TEXT.map(_dollar_quoted).filter(lambda q: q is not None),
    _TEXT.filter(lambda t: "\n" not in t and "\r" not in t).map(lambda t: f"--{t}\n"),
    _TEXT.map(_block_comment).filter(lambda c: c is not None),
    st.sampled_from(
        ["SELECT", "x", "1", "x::int", "a[1:2]", "arr[lo:hi]", "f(a := 1)", "(", ")", ",", "=", "+"]
    ),
)
_FRAGMENT = st.one_of(
    _OPAQUE.map(lambda text: (text, None)),
    _NAMES.map(lambda name: (f":{name}", name)),
    _NAMES.map(lambda name: (f":{name}::text", name)),
)


@given(st.lists(_FRAGMENT, max_size=12))
def test_only_placeholders_outside_literals_and_comments_are_rewritten(
    fragments: list[tuple[str, str | None]],
) -> None:
    numbers: dict[str, int] = {}
    expected = []
    for text, name in fragments:
        if name is None:
            expected.append(text)
        else:
            number = numbers.setdefault(name, len(numbers) + 1)
            expected.append(text.replace(f":{name}", f"${number}", 1))
    translated = _uncached(" ".join(text for text, _ in fragments))
    assert translated.sql == " ".join(expected)
    assert translated.names == tuple(numbers)


@given(st.text(st.characters(exclude_categories=("Cs",)).filter(lambda c: c not in ":$")))
def test_text_without_colons_or_dollars_is_left_as_it_is(text: str) -> None:
    translated = _uncached(text)
    assert translated.sql == text
    assert translated.names == ()


@given(st.text())
def test_any_text_translates_or_is_rejected_as_positional(text: str) -> None:
    try:
        translated = _uncached(text)
    except ConfigurationError as error:
        rejection = str(error)
    else:
        rejection = ""
        assert len(set(translated.names)) == len(translated.names)
    assert not rejection or "positional parameter" in rejection
