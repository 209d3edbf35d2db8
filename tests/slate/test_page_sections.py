"""The slate page's sections from apps above slate (slate.page_sections)."""

import pytest

from slate import page_sections


@pytest.fixture
def isolated_providers(monkeypatch):
    monkeypatch.setattr(page_sections, "_providers", [])


def test_each_registered_part_reaches_the_page_context(isolated_providers):
    page_sections.add_slate_page_section(lambda slate: {"first": slate})
    second = page_sections.add_slate_page_section(lambda slate: {"second": 2})
    page_sections.add_slate_page_section(second)  # registering again keeps one
    assert page_sections.slate_page_sections("the slate") == {"first": "the slate", "second": 2}


def test_two_apps_naming_the_same_key_is_an_error(isolated_providers):
    page_sections.add_slate_page_section(lambda slate: {"tallies": 1})
    page_sections.add_slate_page_section(lambda slate: {"tallies": 2})
    with pytest.raises(ValueError, match="tallies"):
        page_sections.slate_page_sections(None)


def test_the_candidates_app_registers_its_part_at_startup():
    from candidates.slate_page import candidates_section

    assert candidates_section in page_sections._providers
