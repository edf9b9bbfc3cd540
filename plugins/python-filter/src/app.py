"""Weir plugin `python-filter`: the `transform` interface of the WIT world
`plugin` (wit/plugin.wit), written in Python and built into a component with
componentize-py. The rules and the packed layouts live in filter_core.py.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import log, types

from filter_core import ConfigError, Rules

NAME = "python-filter"
VERSION = "0.1.0"

# The configured rules of this instance. Module state, not an attribute of
# `Transform`: componentize-py (0.25.1) makes a new `Transform` object for
# every exported call, so whatever `init` put on `self` would be gone by
# `process`. One component instance is one Python interpreter, so a module
# global is exactly per-instance state. No rules until init: keep all.
_rules = Rules()


class Transform(exports.Transform):
    """The exported interface: the host calls describe, then init once,
    then process per batch."""

    def describe(self) -> types.Description:
        return types.Description(name=NAME, version=VERSION)

    def init(self, config: str) -> None:
        global _rules
        try:
            _rules = Rules.from_json(config)
        except ConfigError as err:
            raise Err(str(err))
        log.log(log.Level.INFO, f"{NAME} {VERSION}: {_rules.describe()}")

    def process(self, batch: types.Batch) -> types.Results:
        outcomes = _rules.outcomes(batch.names, batch.text, batch.fields, batch.events)
        return types.Results(names=[], text=b"", changes=b"", outcomes=outcomes)
