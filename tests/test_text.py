import logging

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from textsiam.text import MAX_TEXT_CHARS, clean_text, clean_texts, duplicate_key, group_key


def test_clean_text_strips_cuts_and_keeps_what_the_user_wrote():
    assert clean_text("  Как Выучить  Python? \n") == "Как Выучить  Python?"
    assert clean_text(None) == "" and clean_text(float("nan")) == ""
    assert len(clean_text("x" * (MAX_TEXT_CHARS + 5))) == MAX_TEXT_CHARS


def test_clean_texts_matches_clean_text_and_warns_once_with_the_first_row(caplog):
    texts = pd.Series([" a ", None, "y" * (MAX_TEXT_CHARS + 1), "z" * (MAX_TEXT_CHARS + 2)], name="text1",
                      index=[10, 11, 12, 13])  # a chunk of a larger file: rows are index labels
    with caplog.at_level(logging.WARNING, logger="textsiam"):
        cleaned = clean_texts(texts, source="f.csv")
    assert cleaned.tolist() == [clean_text(t) for t in texts]
    assert len(caplog.records) == 1
    assert "f.csv: column 'text1': 2 text(s) longer than" in caplog.text and "first at row 12" in caplog.text


def test_duplicate_key_folds_case_width_and_spaces():
    assert duplicate_key("  How  DO I\tlearn? ") == "how do i learn?"
    assert duplicate_key("ＰＹＴＨＯＮ？") == duplicate_key("python?")  # full-width forms (Chinese keyboards)
    assert duplicate_key("Straße") == duplicate_key("STRASSE")
    assert duplicate_key("how do i learn?") != duplicate_key("how do i learn")


def test_group_key_joins_tokenised_and_raw_copies():
    assert group_key("Idea ?") == group_key("idea?")
    assert group_key("What's C++?") == group_key("whats c ++")


def test_group_key_keeps_cyrillic_and_accented_letters():
    assert group_key("Как выучить Python?") == group_key("как выучить python")
    assert group_key("Как выучить Python?") != group_key("python")
    assert group_key("Café crème") != group_key("cafe creme")
    assert group_key("Café") == group_key("Cafe\u0301")  # composed and decomposed é are one letter


def test_group_key_tells_chinese_questions_apart():
    first, second = group_key("如何学习编程？"), group_key("怎么减肥最快？")
    assert first and second and first != second
    assert group_key("如何学习编程？") == group_key("如何 学习 编程 ?")


def test_group_key_keeps_combining_marks():
    assert group_key("की") != group_key("क")  # Devanagari vowel signs are marks, not letters


def test_texts_without_letters_keep_a_non_empty_key():
    assert group_key("？？？") == group_key("???") != ""
    assert group_key("🙂") and group_key("🙂") != group_key("🙁")
    assert group_key("") == ""


@given(st.text(min_size=1))
def test_no_non_empty_text_gets_an_empty_key(text: str):
    assert group_key(text) != ""
    if text.strip():
        assert duplicate_key(text) != ""


@given(st.text())
def test_keys_are_stable(text: str):
    assert group_key(group_key(text)) == group_key(text) or not group_key(text).strip()
    assert duplicate_key(duplicate_key(text)) == duplicate_key(text)


def test_clean_texts_of_a_numpy_backed_series():
    assert clean_texts(pd.Series(np.array(["a", " b"], dtype=object))).tolist() == ["a", "b"]
