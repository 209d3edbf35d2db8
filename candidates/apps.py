from django.apps import AppConfig


class CandidatesConfig(AppConfig):
    name = "candidates"
    verbose_name = "Candidates and agreements"

    def ready(self):
        # The candidates' part of the public slate page (slate does not import upward).
        from . import slate_page  # noqa: F401
