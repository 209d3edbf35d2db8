from django.apps import AppConfig


class BenchLoadConfig(AppConfig):
    name = "bench.load"
    label = "bench_load"

    def ready(self) -> None:
        from . import counting

        counting.install()
