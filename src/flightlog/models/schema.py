"""Model input/output schemas in MLflow's JSON form.

A `Schema` is a list of specs, either all `ColSpec` (named or unnamed columns with a scalar type,
for tabular data) or all `TensorSpec` (numpy dtype + shape, -1 for a free dimension). The JSON
each spec writes is MLflow's, so a signature saved here is read by MLflow and the other way round:

    {"type": "double", "name": "a", "required": true}
    {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}

MLflow's richer column types (array, object, map, any) are kept as their JSON so a model logged by
MLflow round-trips; flightlog enforces them loosely (the column must be there).

numpy is imported only when a caller asks for a dtype object, never at import time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

from flightlog.exceptions import InvalidParameterError


class DataType(str, Enum):
    """The scalar column types (MLflow's names). Members compare equal to their names."""

    boolean = "boolean"
    integer = "integer"
    long = "long"
    float = "float"
    double = "double"
    string = "string"
    binary = "binary"
    datetime = "datetime"

    def __str__(self) -> str:
        return self.value

    def to_numpy(self) -> Any:
        """The numpy dtype a column of this type is converted to before predict()."""
        import numpy as np

        return np.dtype(_NUMPY_DTYPE_NAMES[self.value])


_NUMPY_DTYPE_NAMES = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
    "string": "object",
    "binary": "object",
    "datetime": "datetime64[ns]",
}

# Column types that are JSON structures rather than scalars; kept verbatim.
COMPLEX_TYPES = ("array", "object", "map", "any", "sparkml_vector")


class ColSpec:
    """One column: a type, an optional name, and whether it may be missing."""

    def __init__(
        self,
        type: DataType | str,  # noqa: A002 - MLflow's keyword name
        name: str | None = None,
        optional: bool | None = None,
        required: bool = True,
        type_spec: dict[str, Any] | None = None,
    ):
        if optional is not None:  # MLflow's older spelling
            required = not optional
        if isinstance(type, DataType):
            self._type: DataType | str = type
        elif isinstance(type, str) and type in DataType.__members__:
            self._type = DataType[type]
        elif isinstance(type, str) and type in COMPLEX_TYPES:
            self._type = type
        else:
            raise InvalidParameterError(
                f"Unknown column type {type!r}; use one of {[t.value for t in DataType]} "
                f"or {list(COMPLEX_TYPES)}"
            )
        self.name = None if name is None else str(name)
        self.required = bool(required)
        # For complex types: the rest of the JSON ("items", "properties", "values", ...).
        self.type_spec = dict(type_spec or {})

    @property
    def type(self) -> DataType | str:
        return self._type

    @property
    def optional(self) -> bool:
        return not self.required

    @property
    def is_complex(self) -> bool:
        return not isinstance(self._type, DataType)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": str(self._type)}
        d.update(self.type_spec)
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColSpec:
        rest = {k: v for k, v in d.items() if k not in ("type", "name", "required", "optional")}
        required = d.get("required", not d.get("optional", False))
        return cls(d["type"], d.get("name"), required=required, type_spec=rest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColSpec) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def __repr__(self) -> str:
        req = "" if self.required else " (optional)"
        return f"{self.name!r}: {self._type}{req}" if self.name else f"{self._type}{req}"


class TensorSpec:
    """A tensor: numpy dtype name and shape (-1 for a dimension of any size, e.g. the batch)."""

    def __init__(self, type: Any, shape: Iterable[int], name: str | None = None):  # noqa: A002
        self._dtype_name = _dtype_name(type)
        self.shape = tuple(int(s) for s in shape)
        self.name = None if name is None else str(name)

    @property
    def type(self) -> Any:
        """The numpy dtype (imports numpy)."""
        import numpy as np

        return np.dtype(self._dtype_name)

    @property
    def dtype_name(self) -> str:
        return self._dtype_name

    @property
    def required(self) -> bool:
        return True

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.name is not None:
            d["name"] = self.name
        d["type"] = "tensor"
        d["tensor-spec"] = {"dtype": self._dtype_name, "shape": list(self.shape)}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TensorSpec:
        spec = d.get("tensor-spec")
        if not isinstance(spec, dict) or "dtype" not in spec or "shape" not in spec:
            raise InvalidParameterError(
                f"A tensor spec needs 'tensor-spec' with dtype and shape: {d}"
            )
        return cls(spec["dtype"], spec["shape"], d.get("name"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self._dtype_name, self.shape, self.name))

    def __repr__(self) -> str:
        head = f"{self.name!r}: " if self.name else ""
        return f"{head}Tensor({self._dtype_name!r}, {self.shape})"


def _dtype_name(dtype: Any) -> str:
    """A numpy dtype (or its name, or a numpy scalar type) as MLflow writes it: 'float32', 'str'."""
    if isinstance(dtype, str):
        name = dtype
    else:
        name = getattr(dtype, "name", None) or getattr(dtype, "__name__", None) or str(dtype)
    # numpy calls fixed-width unicode 'str256' etc.; MLflow writes the kind only.
    if name.startswith("str") and name != "str":
        name = "str"
    if name.startswith("bytes") and name != "bytes":
        name = "bytes"
    return name


class Schema:
    """An ordered list of ColSpec or TensorSpec (never both)."""

    def __init__(self, inputs: Sequence[ColSpec | TensorSpec]):
        inputs = list(inputs)
        if not inputs:
            raise InvalidParameterError("A schema needs at least one column or tensor spec")
        kinds = {type(s) for s in inputs}
        if len(kinds) > 1 or not kinds <= {ColSpec, TensorSpec}:
            raise InvalidParameterError(
                "A schema holds either only ColSpec or only TensorSpec entries, not a mix"
            )
        names = [s.name for s in inputs]
        if any(n is None for n in names) and any(n is not None for n in names):
            raise InvalidParameterError("Either every spec in a schema has a name or none has")
        if len(inputs) > 1 and names[0] is None and kinds == {TensorSpec}:
            raise InvalidParameterError("A schema with several tensors needs a name on each")
        duplicates = {n for n in names if n is not None and names.count(n) > 1}
        if duplicates:
            raise InvalidParameterError(f"Duplicate names in schema: {sorted(duplicates)}")
        self.inputs = inputs

    def is_tensor_spec(self) -> bool:
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        return self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        return [s.name if s.name is not None else i for i, s in enumerate(self.inputs)]

    def required_input_names(self) -> list[str | int]:
        return [
            s.name if s.name is not None else i for i, s in enumerate(self.inputs) if s.required
        ]

    def input_types(self) -> list[Any]:
        return [s.type for s in self.inputs]

    def to_dict(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.inputs]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Schema:
        return cls.from_list(json.loads(text))

    @classmethod
    def from_list(cls, specs: list[dict[str, Any]]) -> Schema:
        if not isinstance(specs, list):
            raise InvalidParameterError(f"A schema is a JSON list of specs, got {specs!r}")
        return cls(
            [
                TensorSpec.from_dict(d) if d.get("type") == "tensor" else ColSpec.from_dict(d)
                for d in specs
            ]
        )

    def __len__(self) -> int:
        return len(self.inputs)

    def __iter__(self):
        return iter(self.inputs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return "[" + ", ".join(repr(s) for s in self.inputs) + "]"


class ParamSpec:
    """An inference parameter predict() accepts (MLflow's `params` schema), with its default."""

    def __init__(self, name: str, dtype: DataType | str, default: Any, shape: Any = None):
        self.name = name
        self.dtype = DataType[dtype] if isinstance(dtype, str) else dtype
        self.default = default
        self.shape = None if shape is None else tuple(shape)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": str(self.dtype),
            "default": self.default,
            "shape": None if self.shape is None else list(self.shape),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ParamSpec:
        return cls(d["name"], d["type"], d.get("default"), d.get("shape"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSpec) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"{self.name!r}: {self.dtype} (default: {self.default!r})"


class ParamSchema:
    def __init__(self, params: Sequence[ParamSpec]):
        self.params = list(params)

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> ParamSchema:
        return cls([ParamSpec.from_dict(d) for d in json.loads(text)])

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSchema) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return "[" + ", ".join(repr(p) for p in self.params) + "]"
