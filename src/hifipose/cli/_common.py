"""What several subcommands share: flags declared once, output checks, counts in words.

The shared flags (``--quiet``, ``--fov`` / ``--intrinsics``, ``--debug`` / ``--verbose``) are
declared here only, and every detector flag is generated from its
:class:`~hifipose.config.DetectorConfig` field (:func:`add_detector_flag`: destination = the
field's name, default, choices and type read from the field; renamed flags in
:data:`FLAG_NAMES`). A subcommand calls ``add_*`` where the flag belongs in its ``--help``
and passes its own help text when the flag means something particular there.
"""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import MISSING, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin, get_type_hints

from hifipose.config import DetectorConfig
from hifipose.errors import ConfigError

if TYPE_CHECKING:
    _Adder = argparse.ArgumentParser | argparse._ArgumentGroup
    from hifipose.camera import CameraSpec


#: Exit status of a run that finished but skipped some inputs.
EXIT_DONE_WITH_FAILURES = 3
VIDEO_OUTPUT_SUFFIXES = (".mp4", ".avi", ".mov", ".m4v")
DEBUG_HELP = "show tracebacks, debug logs and the native libraries' log lines"
VERBOSE_HELP = "show info logs and the native libraries' log lines (OpenCV, FFmpeg, LiteRT)"
_DETECTOR_FIELDS = tuple(field.name for field in fields(DetectorConfig))


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.samefile(second)
    except OSError:  # one does not exist (yet): compare where they would be
        return first.resolve() == second.resolve()


def refuse_overwrites(
    outputs: Sequence[tuple[str, Path, str | None]], inputs: Sequence[Path]
) -> None:
    """Refuse, before any work, outputs that would overwrite an input, a folder or each other.

    Args:
        outputs: ``(flag, path, example)`` per output given; ``example`` is a file name to
            suggest when a file output names an existing folder, None for an output that
            may be a folder.
        inputs: The files the command reads.

    Raises:
        ConfigError: A file output names an existing folder, an output resolves to an input
            file, or two outputs name the same path.
    """
    for flag, path, example in outputs:
        if example is not None and path.is_dir():
            msg = f"{flag} {path} is an existing folder; give a file name, e.g. {path / example}"
            raise ConfigError(msg)
        for item in inputs:
            if _same_file(path, item):
                msg = (
                    f"{flag} {path} is the input file {item}: it would be overwritten; "
                    "choose another name"
                )
                raise ConfigError(msg)
    for i, (flag, path, _) in enumerate(outputs):
        for other_flag, other, _ in outputs[i + 1 :]:
            if _same_file(path, other):
                msg = f"{flag} and {other_flag} name the same path {path}; give each its own"
                raise ConfigError(msg)


def given_camera(args: argparse.Namespace) -> CameraSpec | None:
    """The camera from --fov / --intrinsics, or None when neither is given."""
    from hifipose.camera import CameraSpec

    if args.fov is not None:
        return CameraSpec(hfov_deg=args.fov)
    if args.intrinsics is not None:
        return CameraSpec.from_file(args.intrinsics)
    return None


def plural(count: int, noun: str) -> str:
    """``"1 frame"``, ``"0 frames"``, ``"2 frames"``: the count and the noun it needs."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def bounded_int(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in [minimum, maximum], else a clear usage error."""
    wanted = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum or (maximum is not None and value > maximum):
            msg = f"expected an integer {wanted}, got {text!r}"
            raise argparse.ArgumentTypeError(msg)
        return value

    parse.__name__ = f"integer {wanted}"  # argparse names the type in its messages
    return parse


#: The DetectorConfig fields whose flag is not ``--field-name`` (the flags users know).
FLAG_NAMES: dict[str, str] = {
    "model_type": "--model",
    "detector_tiles": "--tiles",
    "enable_segmentation": "--segmentation",
}

#: Each detector flag's help (a command passes its own where the flag means more there).
DETECTOR_HELP: dict[str, str] = {
    "device": "cpu, cuda or auto (the runtime's GPU when there is one); gpu, npu: openvino's",
    "enable_segmentation": "compute (and tint) the person mask",
    "min_detection_confidence": "minimum detector score to start a person (0 to 1)",
    "min_tracking_confidence": "minimum pose presence to keep a person (0 to 1)",
    "num_poses": "most people per frame (each keeps an id)",
    "detect_every": (
        "with --num-poses > 1: look for more people at most every N frames (default 15)"
    ),
    "max_lost_ms": (
        "how long a person who disappeared keeps their id (ms; default 1000, "
        "3000 with --num-poses > 1)"
    ),
    "detector_tiles": (
        "also run the detector on overlapping tiles, K along the short side (small people; "
        "default 1, automatic tiles with --num-poses > 1)"
    ),
    "model_dir": "use model files from this folder",
    "precision": (
        "int8: a quantised landmark model (litert, openvino); bf16: bfloat16 (openvino): "
        "faster, not MediaPipe's numbers"
    ),
    "compat": "mediapipe-python: the legacy mp.solutions.pose's numbers (default: the graph's)",
    "refine_passes": "2: a second landmark pass on each new person (accuracy mode)",
    "flip_tta": "average each crop with its mirror (accuracy)",
    "holistic": "also each person's hands (21 points) and face (468 points), as Holistic",
}

#: Choices of the fields whose type does not list them (an int with two valid values).
_DETECTOR_CHOICES: dict[str, tuple[object, ...]] = {"refine_passes": (1, 2)}


def detector_flag(name: str) -> str:
    """The command-line flag of the :class:`~hifipose.config.DetectorConfig` field ``name``."""
    return FLAG_NAMES.get(name, "--" + name.replace("_", "-"))


def field_help(record: type, name: str) -> str | None:
    """The first sentence of ``name``'s entry in ``record``'s docstring ``Attributes`` (plain)."""
    doc = inspect.getdoc(record) or ""
    _, _, attributes = doc.partition("Attributes:\n")
    entry = re.search(
        rf"^ {{4}}{re.escape(name)}: (.+?)(?=^ {{4}}\w[\w, ]*:|\Z)", attributes, re.M | re.S
    )
    if entry is None:
        return None
    text = " ".join(entry.group(1).split())
    text = re.sub(r":\w+:`~?(?:[\w.]+\.)?([\w]+)`", r"\1", text).replace("``", "")
    first = re.split(r"(?<=\.)\s", text, maxsplit=1)[0].rstrip(".")
    return first.replace("%", "%%")  # argparse formats help with %


def add_field_flag(
    parser: _Adder,
    record: type,
    name: str,
    flag: str | None = None,
    **overrides: Any,  # noqa: ANN401 - add_argument's keywords
) -> None:
    """Declare the flag of field ``name`` of the dataclass ``record``.

    Its destination is the field's name and its flag ``--field-name`` unless ``flag`` says
    otherwise; its default, its choices (a ``Literal`` field) and its type are read from the
    field, its help from the record's docstring; a ``bool`` field is a switch (``--name``
    when it defaults to False, ``--name`` / ``--no-name`` when it defaults to True).
    ``overrides`` (``help``, a stricter ``type``, a command's own ``default``) go to
    ``add_argument`` as given.
    """
    field = {f.name: f for f in fields(record)}[name]
    hint = get_type_hints(record)[name]
    flag = flag or "--" + name.replace("_", "-")
    default = None if field.default is MISSING else field.default
    options: dict[str, Any] = {"dest": name, "default": default, "help": field_help(record, name)}
    if hint is bool:
        options["action"] = argparse.BooleanOptionalAction if default else "store_true"
    elif get_origin(hint) is Literal:
        options["choices"] = get_args(hint)
    else:
        kinds = [kind for kind in (get_args(hint) or (hint,)) if kind is not type(None)]
        options["type"] = kinds[0]
        if "choices" not in overrides:  # argparse shows the choices instead
            options["metavar"] = flag.lstrip("-").replace("-", "_").upper()  # not the field's
    parser.add_argument(flag, **(options | overrides))


def add_detector_flag(parser: _Adder, name: str, **overrides: Any) -> None:  # noqa: ANN401 - add_argument's keywords
    """Declare the flag of the :class:`~hifipose.config.DetectorConfig` field ``name``.

    As :func:`add_field_flag`, with the flag's name from :data:`FLAG_NAMES` and its help
    from :data:`DETECTOR_HELP` where they have one.
    """
    if name in _DETECTOR_CHOICES:
        overrides = {"choices": _DETECTOR_CHOICES[name]} | overrides
    if name in DETECTOR_HELP:
        overrides = {"help": DETECTOR_HELP[name]} | overrides
    add_field_flag(parser, DetectorConfig, name, detector_flag(name), **overrides)


def add_detector_flags(parser: _Adder, *, leave_out: Collection[str] = ()) -> None:
    """Declare every :class:`~hifipose.config.DetectorConfig` field's flag not yet declared.

    ``leave_out``: the fields the command sets itself (each command's table says why).
    A field added to ``DetectorConfig`` gets its flag in every command this way.
    """
    declared = {action.dest for action in parser._actions}  # a group shares its parser's
    for name in _DETECTOR_FIELDS:
        if name not in declared and name not in leave_out:
            add_detector_flag(parser, name)


def detector_options(args: argparse.Namespace) -> dict[str, Any]:
    """The DetectorConfig fields a command's flags set, by field name."""
    return {name: getattr(args, name) for name in _DETECTOR_FIELDS if hasattr(args, name)}


def add_model(parser: _Adder, *, default: str = "full", help: str | None = None) -> None:
    """``--model``: the landmark model (DetectorConfig's ``model_type``)."""
    add_detector_flag(parser, "model_type", default=default, help=help)


def add_runtime(parser: _Adder, *, help: str | None = None) -> None:
    """``--runtime``: the inference runtime (default litert)."""
    add_detector_flag(parser, "runtime", help=help)


def add_model_dir(parser: _Adder, *, help: str = DETECTOR_HELP["model_dir"]) -> None:
    """``--model-dir``: model files from a folder instead of the per-user cache."""
    add_detector_flag(parser, "model_dir", help=help, metavar=None)


def add_quiet(parser: _Adder, *, help: str | None = "no progress bar") -> None:
    """``--quiet``: no progress bar (``models fetch``: no per-file lines)."""
    parser.add_argument("--quiet", action="store_true", help=help)


def add_camera(parser: argparse.ArgumentParser, *, fov_help: str) -> None:
    """``--fov DEG`` or ``--intrinsics FILE`` (one of them): camera-space keypoints.

    The flags of :class:`~hifipose.stream.RunOptions`' ``fov`` and ``intrinsics``.
    """
    from hifipose.stream import RunOptions

    camera = parser.add_mutually_exclusive_group()
    add_field_flag(camera, RunOptions, "fov", metavar="DEG", help=fov_help)
    add_field_flag(
        camera,
        RunOptions,
        "intrinsics",
        type=Path,
        metavar="FILE",
        help="camera intrinsics JSON (camera_matrix + width/height, or hfov_deg): camera space",
    )


def add_logging_flags(parser: _Adder, *, after_command: bool = False) -> None:
    """``--debug`` and ``--verbose``: before the subcommand, and (``after_command``) after it.

    After the subcommand their default is left out, so the values given before it stay.
    """
    default = argparse.SUPPRESS if after_command else False
    parser.add_argument("--debug", action="store_true", default=default, help=DEBUG_HELP)
    parser.add_argument("--verbose", action="store_true", default=default, help=VERBOSE_HELP)
