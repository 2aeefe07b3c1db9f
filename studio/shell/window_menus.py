"""The main window's menus, shortcuts and the Help text (built here to keep main_window.py about wiring).

`build_menus(window)` sets the actions other code reaches for on the window: export_action, copy_action,
undo_action, audio_menu, device_actions, store_all_action, play_shortcut and keep_shortcut.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QActionGroup, QKeySequence, QShortcut
from PySide6.QtWidgets import QMessageBox

from core import APP_NAME, __version__
from core.devices.compute import compute_devices
from core.devices.playback import PlaybackUnavailable, list_output_devices
from studio.export.batch_render import open_batch_render

SHORTCUTS = """Ctrl+Enter: generate (Enter in the prompt too)
Space: play / stop the selected take (outside text fields)
Arrow keys, Home, End: move between candidate cards
K: keep the selected card
Ctrl+F: search the library
Delete: move the selected library items to the trash
Ctrl+Z: undo the last delete
Ctrl+E: export the selected take (its waveform selection, if any)
Ctrl+Shift+C: copy the selected take to the clipboard as a file
R: record / stop a take; Shift+R: record into the waveform selection (punch-in)
Waveform: wheel or + / - zoom, Shift+wheel or Left / Right scroll, drag to select, S spectrogram"""

# Export choices: (label, value); "source" / 0 follow the take (core.audio.formats.source).
EXPORT_CHOICES = {
    "format": (("Same as source", "source"), ("WAV", "wav"), ("FLAC", "flac"), ("AIFF", "aiff"),
               ("Ogg Vorbis", "ogg"), ("Opus", "opus"), ("MP3", "mp3")),
    "subtype": (("Same as source", "source"), ("16-bit", "pcm16"), ("24-bit", "pcm24"), ("32-bit", "pcm32"),
                ("32-bit float", "float32")),
    "rate": (("Same as source", 0), ("16 kHz", 16_000), ("22.05 kHz", 22_050), ("44.1 kHz", 44_100),
             ("48 kHz", 48_000), ("88.2 kHz", 88_200), ("96 kHz", 96_000)),
    "channels": (("Same as source", 0), ("Mono", 1), ("Stereo", 2))}


def build_menus(window) -> None:
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    window.export_action = file_menu.addAction("&Export…")
    window.export_action.setShortcut(QKeySequence("Ctrl+E"))
    window.copy_action = file_menu.addAction("&Copy to clipboard")
    window.copy_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
    file_menu.addAction("&Batch render…", lambda: open_batch_render(window))  # studio.export.batch_render
    file_menu.addSeparator()
    file_menu.addAction("E&mpty library trash…", window.empty_trash)
    file_menu.addSeparator()
    quit_action = file_menu.addAction("&Quit", window.close)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)

    edit_menu = bar.addMenu("&Edit")
    window.undo_action = edit_menu.addAction("&Undo delete", window.library_panel.undo_delete)
    window.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
    generate_action = edit_menu.addAction("&Generate", window.generation_panel.request_generate)
    generate_action.setShortcut(QKeySequence("Ctrl+Return"))
    edit_menu.addAction("&Cancel all jobs", window.jobs.cancel_all)
    find_action = edit_menu.addAction("&Find in library", window.focus_library_search)
    find_action.setShortcut(QKeySequence.StandardKey.Find)

    settings_menu = bar.addMenu("&Settings")
    build_device_menu(window, settings_menu.addMenu("Compute &device"))
    window.audio_menu = settings_menu.addMenu("&Audio output")
    window.audio_menu.aboutToShow.connect(lambda: fill_audio_menu(window))
    window.store_all_action = settings_menu.addAction("Store &every generation in the library")
    window.store_all_action.setCheckable(True)
    window.store_all_action.setChecked(window.settings.store_all_generations)
    window.store_all_action.toggled.connect(lambda on: setattr(window.settings, "store_all_generations", on))
    build_export_menu(window, settings_menu.addMenu("E&xport format"))
    window.fit_levels_action = settings_menu.addAction("&Fit card thumbnails to their peak")
    window.fit_levels_action.setCheckable(True)  # off: true level, as the editor shows it
    window.fit_levels_action.toggled.connect(window.candidates.set_fit_levels)

    models_menu = bar.addMenu("&Models")
    models_menu.addAction("&Model manager…", window.open_model_manager)
    help_menu = bar.addMenu("&Help")
    help_menu.addAction("Message &history…", window.message_log.show_history)
    help_menu.addAction("&Keyboard shortcuts", lambda: QMessageBox.information(
        window, "Keyboard shortcuts", shortcuts_help(window)))
    help_menu.addAction("&About", lambda: QMessageBox.about(
        window, APP_NAME, f"{APP_NAME} {__version__}\nText to sound, music and speech with AudioLDM 2.\n"
                          f"Library: {window.library.folder}\nSettings: {window.settings.path}"))

    QShortcut(QKeySequence("Ctrl+Enter"), window, window.generation_panel.request_generate)
    # Space plays/stops the selected take anywhere in the window; text fields keep their spaces
    # (they claim the key through ShortcutOverride before a shortcut sees it).
    window.play_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Space), window, window.toggle_playback)
    # K keeps the selected card wherever the focus is (a click on the waveform used to swallow it silently).
    window.keep_shortcut = QShortcut(QKeySequence(Qt.Key.Key_K), window, lambda: keep_selected_card(window))


def keep_selected_card(window) -> None:
    entry = window.candidates.current()
    if entry is None:
        window.show_message("Select a take to keep: click its card, then press K (or its Keep button).")
    elif entry.kept:
        window.show_message(f"“{entry.title}” is already kept in the library.")
    else:
        window.keep(entry)


def shortcuts_help(window) -> str:
    """The window's shortcuts, then the editor's. With the editor, Space and Ctrl+Z are its own (it says what they
    do in the library too), so the window's lines for them would contradict its."""
    editor = getattr(window, "editor_shortcuts", "")
    if not editor:
        return SHORTCUTS
    taken = tuple(line.split(":")[0] + ":" for line in editor.strip().splitlines() if ":" in line)
    return "\n".join(line for line in SHORTCUTS.splitlines() if not line.startswith(taken)) + editor


def build_device_menu(window, menu) -> None:
    """Every device, but only the usable ones can be chosen; the others say why not."""
    group = QActionGroup(window)
    window.device_actions = {}
    for device in compute_devices():
        action = menu.addAction(f"{device.name} — {device.note}",
                                lambda d=device.name: window.set_compute_device(d))
        action.setCheckable(True)
        action.setEnabled(device.usable)
        action.setChecked(device.name == window.settings.device)
        group.addAction(action)
        window.device_actions[device.name] = action
    build_precision_section(window, menu)


PRECISION_NOTES = {"auto": "the fastest that keeps fidelity on the device", "fp32": "full precision, slowest",
                   "bf16": "fast on CPUs with AVX-512 BF16 and recent GPUs", "fp16": "fast on CUDA GPUs"}


def build_precision_section(window, menu) -> None:
    """Precision radio items under the devices; the setting becomes the default of every engine the window makes."""
    from core.devices.compute import PRECISIONS
    from studio.models.window_models import apply_low_vram_default, apply_precision_default

    menu.addSection("Precision")
    apply_precision_default(window.settings.precision)
    group = QActionGroup(window)
    window.precision_actions = {}
    for name in PRECISIONS:
        action = menu.addAction(f"{name} — {PRECISION_NOTES[name]}", lambda p=name: window.set_compute_precision(p))
        action.setCheckable(True)
        action.setChecked(name == window.settings.precision)
        group.addAction(action)
        window.precision_actions[name] = action
    menu.addSection("Memory")
    apply_low_vram_default(window.settings.low_vram)
    window.low_vram_action = menu.addAction("Low-VRAM mode — one model on the GPU at a time, for 4-6 GB GPUs "
                                            "(CUDA only; slower)")
    window.low_vram_action.setObjectName("lowVramAction")
    window.low_vram_action.setCheckable(True)
    window.low_vram_action.setChecked(window.settings.low_vram)
    window.low_vram_action.toggled.connect(window.set_low_vram)


EXPORT_SECTIONS = {"format": "Format", "subtype": "Bit depth", "rate": "Sample rate", "channels": "Channels"}


def build_export_menu(window, menu) -> None:
    for key, options in EXPORT_CHOICES.items():
        menu.addSection(EXPORT_SECTIONS[key])
        group = QActionGroup(window)
        current = getattr(window.settings, f"export_{key}")
        for label, value in options:
            action = menu.addAction(label, lambda k=key, v=value: setattr(window.settings, f"export_{k}", v))
            action.setCheckable(True)
            action.setChecked(value == current)
            group.addAction(action)


def fill_audio_menu(window) -> None:
    menu = window.audio_menu
    menu.clear()
    try:
        devices = list_output_devices()
    except PlaybackUnavailable as exc:
        menu.addAction(str(exc)).setEnabled(False)
        return
    if not devices:
        menu.addAction("No audio output found").setEnabled(False)
    default = menu.addAction("System default", lambda: window.set_audio_device(None))
    default.setCheckable(True)
    default.setChecked(not window.settings.audio_device)
    for device in devices:
        action = menu.addAction(device.label, lambda d=device: window.set_audio_device(d.label))
        action.setCheckable(True)
        action.setChecked(device.label == window.settings.audio_device)
