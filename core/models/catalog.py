"""The official AudioLDM 2 checkpoints LOA Studio knows by name."""

from __future__ import annotations

from dataclasses import dataclass

from core.generation.defaults import SOUND, SPEECH

LICENCE_CC_BY_NC_SA = "CC-BY-NC-SA-4.0"


@dataclass(frozen=True)
class ModelInfo:
    id: str
    task: str  # "sound", "music" or "speech": the studio mode it serves
    title: str
    parameters: int
    download_bytes: int
    licence: str
    default_seconds: float
    default_steps: int
    default_guidance: float

    @property
    def is_speech(self) -> bool:
        return self.task == "speech"


def _numbers(defaults) -> tuple:
    return defaults.seconds, defaults.steps, defaults.guidance


CATALOG: dict[str, ModelInfo] = {m.id: m for m in [
    ModelInfo("cvssp/audioldm2", "sound", "AudioLDM 2 (sound effects and general audio)",
              1_118_354_316, 4_474_362_800, LICENCE_CC_BY_NC_SA, *_numbers(SOUND)),
    ModelInfo("cvssp/audioldm2-large", "sound", "AudioLDM 2 Large (higher quality, slower)",
              1_489_423_116, 5_958_866_688, LICENCE_CC_BY_NC_SA, *_numbers(SOUND)),
    ModelInfo("cvssp/audioldm2-music", "music", "AudioLDM 2 Music (text-to-music)",
              1_118_354_316, 4_474_362_800, LICENCE_CC_BY_NC_SA, *_numbers(SOUND)),
    ModelInfo("anhnct/audioldm2_gigaspeech", "speech", "AudioLDM 2 GigaSpeech (many voices, text-to-speech)",
              730_000_000, 2_900_000_000, LICENCE_CC_BY_NC_SA, *_numbers(SPEECH)),
    ModelInfo("anhnct/audioldm2_ljspeech", "speech", "AudioLDM 2 LJSpeech (one voice, text-to-speech)",
              730_000_000, 2_900_000_000, LICENCE_CC_BY_NC_SA, *_numbers(SPEECH)),
]}

DEFAULT_MODEL = "cvssp/audioldm2"
DEFAULT_MODEL_BY_TASK = {"sound": "cvssp/audioldm2", "music": "cvssp/audioldm2-music",
                         "speech": "anhnct/audioldm2_gigaspeech"}


def describe_size(n_bytes: int) -> str:
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.0f} MB"
