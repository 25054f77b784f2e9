"""privacy_guard's Python companion: reads dbt artifacts and checks what crosses a join."""

__version__ = "0.1.0"
