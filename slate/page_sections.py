"""What apps above slate add to the public slate page.

The slate page is slate's, but most of what it shows belongs to the apps above it: the
candidates' standings, plank tallies, asks and vote records. Those apps register a provider
here when Django starts (their ``AppConfig.ready``), so slate never imports upward; the page
asks every provider for its part of the template context.
"""

from collections.abc import Callable

from .models import Slate

SectionProvider = Callable[[Slate], dict]

_providers: list[SectionProvider] = []


def add_slate_page_section(provider: SectionProvider) -> SectionProvider:
    """Register ``provider(slate) -> dict`` for the slate page's context (usable as a
    decorator; registering the same function twice keeps one)."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def slate_page_sections(slate: Slate) -> dict:
    """Every registered app's part of the slate page, merged; two apps may not both name the
    same key (that is a programming error, caught by the tests at startup's first page)."""
    context: dict = {}
    for provider in _providers:
        part = provider(slate)
        clash = context.keys() & part.keys()
        if clash:
            raise ValueError(f"slate page sections both provide {sorted(clash)}")
        context.update(part)
    return context
