"""The studio's persisted settings: typed accessors over a QSettings INI file in the config folder.

The file is `studio.ini` in `core.paths.config_dir()` (LOA_CONFIG_DIR overrides), so tests and
portable setups never touch the user's real settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import QByteArray, QSettings

from core.paths import config_dir
from core.tempo.bars import MAX_BPM, MIN_BPM

SETTINGS_FILE = "studio.ini"
SAME_AS_SOURCE = "source"  # export format and bit depth; 0 for rate and channels (core.audio.formats.source)
EXPORT_FORMATS = (SAME_AS_SOURCE, "wav", "flac", "aiff", "ogg", "opus", "mp3")
EXPORT_SUBTYPES = (SAME_AS_SOURCE, "pcm16", "pcm24", "pcm32", "float32")
EXPORT_RATES = (0, 8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000)
EXPORT_CHANNELS = (0, 1, 2)
DEVICES = ("auto", "cpu", "cuda", "mps")
RECORD_RATES = (44_100, 48_000, 96_000)
COUNT_IN_MODES = ("off", "visual", "click")


class StudioSettings:
    """One place for every setting the window remembers; defaults live here, not at call sites."""

    def __init__(self, path: Optional[Path] = None) -> None:
        self.path = Path(path) if path is not None else config_dir() / SETTINGS_FILE
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    def sync(self) -> None:
        self._qs.sync()

    # ---- generic typed access ----------------------------------------------------------------------
    def _get(self, key: str, default: Any, kind: type) -> Any:
        value = self._qs.value(key, default)
        if value is None:
            return default
        try:
            if kind is bool:
                return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            return kind(value)
        except (TypeError, ValueError):
            return default  # a hand-edited value that does not parse falls back to the default

    def _set(self, key: str, value: Any) -> None:
        self._qs.setValue(key, value)

    # ---- engine ------------------------------------------------------------------------------------
    @property
    def device(self) -> str:
        from core.devices.compute import usable_device

        value = self._get("engine/device", "auto", str)
        return usable_device(value) if value in DEVICES else "auto"  # e.g. cuda in a file from another machine

    @device.setter
    def device(self, value: str) -> None:
        self._set("engine/device", value)

    @property
    def precision(self) -> str:
        """auto, fp32, bf16 or fp16 (core.generation.precision); anything else reads as auto."""
        from core.devices.compute import PRECISIONS

        value = self._get("engine/precision", "auto", str)
        return value if value in PRECISIONS else "auto"

    @precision.setter
    def precision(self, value: str) -> None:
        self._set("engine/precision", value)

    @property
    def low_vram(self) -> bool:
        """Model CPU offload on CUDA GPUs (core.generation.low_vram); ignored elsewhere."""
        return self._get("engine/low_vram", False, bool)

    @low_vram.setter
    def low_vram(self, value: bool) -> None:
        self._set("engine/low_vram", bool(value))

    def model_for_mode(self, mode: str) -> Optional[str]:
        return self._get(f"models/{mode}", "", str) or None

    def set_model_for_mode(self, mode: str, model: str) -> None:
        self._set(f"models/{mode}", model)

    @property
    def local_models(self) -> list[str]:
        """Local model folders the user added in the model manager."""
        try:
            folders = json.loads(self._get("models/local_folders", "[]", str))
        except ValueError:
            return []
        return [f for f in folders if isinstance(f, str)]

    @local_models.setter
    def local_models(self, folders: list[str]) -> None:
        self._set("models/local_folders", json.dumps(list(dict.fromkeys(folders))))

    # ---- library and audio ---------------------------------------------------------------------------
    @property
    def store_all_generations(self) -> bool:
        """True: every candidate goes into the library (unkept until "Keep"); False: only kept ones."""
        return self._get("library/store_all", True, bool)

    @store_all_generations.setter
    def store_all_generations(self, value: bool) -> None:
        self._set("library/store_all", bool(value))

    @property
    def audio_device(self) -> Optional[str]:
        return self._get("audio/output_device", "", str) or None

    @audio_device.setter
    def audio_device(self, value: Optional[str]) -> None:
        self._set("audio/output_device", value or "")

    # ---- recording (studio.recording) ------------------------------------------------------------------
    @property
    def input_device(self) -> Optional[str]:
        return self._get("recording/input_device", "", str) or None

    @input_device.setter
    def input_device(self, value: Optional[str]) -> None:
        self._set("recording/input_device", value or "")

    @property
    def record_rate(self) -> int:
        value = self._get("recording/rate", 48_000, int)
        return value if value in RECORD_RATES else 48_000

    @record_rate.setter
    def record_rate(self, value: int) -> None:
        self._set("recording/rate", int(value))

    @property
    def record_channels(self) -> int:
        """1 mono, 2 stereo, 0: what the input offers (mono inputs mono, others stereo)."""
        value = self._get("recording/channels", 0, int)
        return value if value in (0, 1, 2) else 0

    @record_channels.setter
    def record_channels(self, value: int) -> None:
        self._set("recording/channels", int(value))

    @property
    def count_in_mode(self) -> str:
        value = self._get("recording/count_in", "off", str)
        return value if value in COUNT_IN_MODES else "off"

    @count_in_mode.setter
    def count_in_mode(self, value: str) -> None:
        self._set("recording/count_in", value)

    @property
    def count_in_beats(self) -> int:
        return min(16, max(1, self._get("recording/count_in_beats", 4, int)))

    @count_in_beats.setter
    def count_in_beats(self, value: int) -> None:
        self._set("recording/count_in_beats", int(value))

    @property
    def count_in_tempo(self) -> float:
        return min(MAX_BPM, max(MIN_BPM, self._get("recording/count_in_tempo", 120.0, float)))

    @count_in_tempo.setter
    def count_in_tempo(self, value: float) -> None:
        self._set("recording/count_in_tempo", float(value))

    @property
    def take_counter(self) -> int:
        """Takes recorded so far (names continue across sessions: Take 1, Take 2, ...)."""
        return max(0, self._get("recording/take_counter", 0, int))

    @take_counter.setter
    def take_counter(self, value: int) -> None:
        self._set("recording/take_counter", int(value))

    # ---- export --------------------------------------------------------------------------------------
    @property
    def export_format(self) -> str:
        value = self._get("export/format", SAME_AS_SOURCE, str)
        return value if value in EXPORT_FORMATS else SAME_AS_SOURCE

    @export_format.setter
    def export_format(self, value: str) -> None:
        self._set("export/format", value)
        self._qs.remove("export_dialog/container")  # the menu's newer choice is where Export… starts

    @property
    def export_subtype(self) -> str:
        value = self._get("export/subtype", SAME_AS_SOURCE, str)
        return value if value in EXPORT_SUBTYPES else SAME_AS_SOURCE

    @export_subtype.setter
    def export_subtype(self, value: str) -> None:
        self._set("export/subtype", value)
        self._qs.remove("export_dialog/sample_format")  # the menu's newer choice is where Export… starts

    @property
    def export_rate(self) -> int:
        value = self._get("export/rate", 0, int)
        return value if value in EXPORT_RATES else 0

    @export_rate.setter
    def export_rate(self, value: int) -> None:
        self._set("export/rate", int(value))
        self._qs.remove("export_dialog/sample_rate")  # the menu's newer choice is where Export… starts

    @property
    def export_channels(self) -> int:
        value = self._get("export/channels", 0, int)
        return value if value in EXPORT_CHANNELS else 0

    @export_channels.setter
    def export_channels(self, value: int) -> None:
        self._set("export/channels", int(value))
        self._qs.remove("export_dialog/channels")  # the menu's newer choice is where Export… starts

    @property
    def export_folder(self) -> Optional[str]:
        return self._get("export/folder", "", str) or None

    @export_folder.setter
    def export_folder(self, value: Optional[str]) -> None:
        self._set("export/folder", value or "")

    def export_settings(self):
        """The core.audio.formats.export.ExportSettings drag-out, Export… and Copy use: None fields are "same as source"
        (the default for all four). A bit depth the chosen format cannot hold falls back (FLAC: 24-bit; lossy
        formats have none)."""
        from core.audio.formats.containers import CONTAINERS
        from core.audio.formats.export import ExportSettings

        container = None if self.export_format == SAME_AS_SOURCE else self.export_format
        subtype = None if self.export_subtype == SAME_AS_SOURCE else self.export_subtype
        if container is not None and subtype is not None and subtype not in CONTAINERS[container].sample_formats:
            subtype = None if CONTAINERS[container].lossy else "pcm24"
        return ExportSettings(container=container, sample_format=subtype, sample_rate=self.export_rate or None,
                              channels=self.export_channels or None).validated()

    # ---- what the Export dialog was left at (studio.export.export_dialog) ------------------------------------------
    def last_export_choice(self) -> dict[str, Any]:
        """The fields (core.audio.formats.export.ExportSettings names) of the last export made through the Export dialog;
        None is "Same as source". Only valid, recorded fields: Settings > Export format forgets a field it sets."""
        from core.audio.formats.export import FIELD_NAMES, ExportSettings
        from core.errors import InputError

        found: dict[str, Any] = {}
        for field in FIELD_NAMES:
            raw = self._qs.value(f"export_dialog/{field}")
            if raw is None or raw == "":
                continue
            try:
                value = None if str(raw) == SAME_AS_SOURCE else (
                    str(raw) if field in ("container", "sample_format") else int(raw))
                found[field] = ExportSettings(**{field: value}).validated().to_dict()[field]
            except (InputError, TypeError, ValueError):
                continue  # a hand-edited value that does not parse: that field is not remembered
        return found

    def remember_export(self, choice, folder: Optional[str | Path] = None) -> None:
        """Keep an Export dialog's choice (every field; None as "Same as source") and the folder it wrote to."""
        for field, value in choice.to_dict().items():
            self._set(f"export_dialog/{field}", SAME_AS_SOURCE if value is None else value)
        if folder is not None:
            self.export_folder = str(folder)
        self.sync()

    # ---- window ----------------------------------------------------------------------------------------
    def window_state(self) -> tuple[Optional[QByteArray], Optional[QByteArray]]:
        geometry, state = self._qs.value("window/geometry"), self._qs.value("window/state")
        return (geometry if isinstance(geometry, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self._set("window/geometry", geometry)
        self._set("window/state", state)
        self.sync()

    @property
    def last_mode(self) -> str:
        return self._get("window/mode", "sound", str)

    @last_mode.setter
    def last_mode(self, value: str) -> None:
        self._set("window/mode", value)

    # ---- per-mode fields and the last candidates (restored after a restart) ----------------------------
    def mode_fields_json(self, mode: str) -> str:
        return self._get(f"fields/{mode}", "", str)

    def set_mode_fields_json(self, mode: str, text: str) -> None:
        self._set(f"fields/{mode}", text)
