"""Settings > Re-scan audio devices.

PortAudio lists devices once, when it starts: a headset plugged in or a sound server started after the app opened
stays unseen, and the "No audio ... device found" messages tell the user to re-scan. This does it (restarting
PortAudio through core.devices.playback.refresh_devices) once nothing plays or records, then says what it found.
"""

from __future__ import annotations

from core.devices.playback import (
    PlaybackUnavailable,
    audio_status,
    list_input_devices,
    list_output_devices,
    refresh_devices,
)


def rescan_audio(window) -> bool:
    """Re-scan the audio devices; False (with the reason shown) when it cannot now."""
    recording = getattr(window, "recording", None)
    if window.auditioner.is_playing or (recording is not None and recording.controller.is_busy):
        window.show_message("Stop playback and recording first, then re-scan the audio devices.")
        return False
    midi = getattr(window, "midi", None)
    if midi is not None:  # the pads' stream reopens on the next pad hit, on the re-scanned devices
        midi.controller.player.close()
    try:
        refresh_devices()
        outputs, inputs = len(list_output_devices()), len(list_input_devices())
    except PlaybackUnavailable as exc:
        window.show_error(str(exc))
        return False
    window.statusBar().showMessage(audio_status(window.settings.audio_device), 10_000)
    if recording is not None:
        recording.set_input_device(window.settings.input_device)  # its line says what is there now
    window.show_message(f"Audio devices re-scanned: {outputs} output{'s' if outputs != 1 else ''}, "
                        f"{inputs} input{'s' if inputs != 1 else ''}. "
                        + audio_status(window.settings.audio_device).rstrip(".") + ".")
    return True


def attach(window) -> None:
    """The Settings menu entry (the "No audio ... device found" messages name it)."""
    settings_menu = next((a.menu() for a in window.menuBar().actions() if a.text() == "&Settings"), None)
    if settings_menu is not None:
        window.rescan_action = settings_menu.addAction("Re-&scan audio devices", lambda: rescan_audio(window))
        window.rescan_action.setToolTip("Find outputs and inputs connected (or a sound server started) since the "
                                        "app opened")
