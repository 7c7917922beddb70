"""The spec format: YAML loading with positions, pydantic models, JSON Schema export."""

from .models import Spec
from .spec import LoadedSpec, load_spec, parse_spec_text, spec_hash

__all__ = ["LoadedSpec", "Spec", "load_spec", "parse_spec_text", "spec_hash"]
