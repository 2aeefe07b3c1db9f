"""The window's MIDI features offscreen: status without a MIDI system, learn, actions, pads from the keyboard and
drops, tempo (typed, tapped, from clock events), DAW transport, Music mode in bars, compact mode.

Events are fed through MidiController.handle, the same call the MIDI queue's drain makes; tests/test_studio_midi_jack.py
sends the same things from a real virtual MIDI output over JACK.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from studio_helpers import fill_panel, settled, tone_clip

from core.audio.clip import Clip, save_clip
from core.devices.midi_messages import MidiEvent, control_change, note_on, parse_message


@pytest.fixture
def no_midi_system(monkeypatch):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "loa-no-such-server")  # JACK clients find no server


def entry_of(clip, prompt="tone"):
    from studio.shell.clip_entry import ClipEntry

    return ClipEntry(clip=clip, prompt=prompt, mode="sound", model="tiny", licence="MIT", seed=1, score=0.5)


def test_window_starts_without_a_midi_system_and_says_why(make_window, no_midi_system):
    window = make_window()
    midi = window.midi
    if midi.controller.midi.api == "alsa":
        pytest.skip("this machine has an ALSA sequencer")
    assert midi.status_label.text().startswith("No MIDI system:")
    assert "JACK server not running" in midi.status_label.text()
    dialog = midi.open_dialog()
    assert dialog.input_list.count() == 0  # no ports to tick
    assert dialog.status_label.text().startswith("No MIDI system:")


def test_learn_fires_actions_reports_conflicts_and_persists(make_window, settings, no_midi_system, qtbot):
    window = make_window()
    c = window.midi.controller
    dialog = window.midi.open_dialog()
    fired = []
    c.action.connect(lambda name, value: fired.append((name, value)))

    dialog.learn_buttons["next_take"].click()
    c.handle(parse_message(note_on(60, 100)))
    assert "note 60" in dialog.binding_labels["next_take"].text()
    dialog.learn_buttons["keep"].click()
    c.handle(parse_message(note_on(60, 100)))
    assert "was bound to Next take" in dialog.learn_label.text()
    dialog.learn_buttons["output_gain"].click()
    c.handle(parse_message(control_change(7, 0)))
    dialog.learn_buttons["pad_bank"].click()
    c.handle(parse_message(control_change(8, 0)))

    window.candidates.show_entries([entry_of(tone_clip(440)), entry_of(tone_clip(660), "second")])
    c.handle(parse_message(note_on(60, 90)))  # keep the selected card
    assert window.candidates.cards[0].entry.kept
    c.handle(parse_message(control_change(7, 64)))
    assert c.player.output_gain == pytest.approx(64 / 127)
    c.handle(parse_message(control_change(8, 127)))
    assert c.pads.bank == 3 and window.midi.pads.bank_combo.currentIndex() == 3
    assert [name for name, _ in fired] == ["keep", "output_gain", "pad_bank"]

    from studio.midi.controller import MidiController

    again = MidiController(settings)  # what the next start reads back
    assert set(again.mapping.bindings) == {"keep", "output_gain", "pad_bank"}
    again.close()
    dialog.clear(None)
    assert MidiController(settings).mapping.bindings == {}


def test_pads_from_keyboard_drop_and_notes(make_window, no_midi_system, qtbot, tmp_path):
    window = make_window()
    c, grid = window.midi.controller, window.midi.pads
    started = []
    c.pad_started.connect(started.append)
    path = save_clip(tone_clip(880, seconds=0.3), tmp_path / "hit.wav")

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    button = grid.buttons[4]
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    button.dropEvent(drop)
    assert c.pads.pad(4).label == "hit" and "hit" in button.text()

    window.candidates.show_entries([entry_of(tone_clip(440))])
    assert grid.assign_selected(0)

    pads_can_play = c._ensure_output()
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_1)  # key 1: pad 1
    qtbot.keyClick(grid, Qt.Key.Key_Q)  # key Q: pad 5 (the dropped file), not a window shortcut
    c.handle(parse_message(note_on(40, 100)))  # note 40 = pad 5
    c.handle(parse_message(note_on(41, 100)))  # pad 6 is empty: nothing plays
    if pads_can_play:
        assert started == [0, 4, 4]
    else:  # no audio device here: the status says so and nothing pretends to play
        assert started == [] and "Pads cannot play" in window.midi.status_label.text()


def test_tempo_typed_tapped_and_from_clock_events(make_window, no_midi_system, qtbot):
    window = make_window()
    c, tempo = window.midi.controller, window.midi.tempo
    tempo.bpm_spin.setValue(93.0)
    assert c.bpm == 93.0 and window.midi.bars_row.bpm_spin.text() == "93.0 BPM"  # Music mode shows the same tempo
    for i in range(5):
        c.tapper.tap(i * 0.5)
    c.set_bpm(round(c.tapper.tap(2.5), 1), "tap")
    assert c.bpm == pytest.approx(120.0) and tempo.source_label.text() == "tapped"

    import time

    now = time.monotonic()
    for i in range(24 * 4):
        c.handle(MidiEvent("clock", timestamp=now - 2.0 + i * 60 / (97 * 24)))
    assert c.bpm == pytest.approx(97.0, abs=0.05) and tempo.source_label.text() == "MIDI clock"
    assert tempo.bpm_spin.isReadOnly() and tempo.bpm_spin.value() == pytest.approx(97.0, abs=0.05)
    c.set_bpm(150.0, "manual")  # ignored while the clock runs
    assert c.bpm == pytest.approx(97.0, abs=0.05)
    assert window.session_bpm() == c.bpm


def test_tempo_field_unlocks_when_the_clock_stops(make_window, no_midi_system, qtbot):
    """A running clock makes the field read-only ("MIDI clock"); a second without pulses (the DAW stopped sending,
    or its port went away) and the field takes typed values again, from the clock's last tempo."""
    import time

    window = make_window()
    c, tempo = window.midi.controller, window.midi.tempo
    start = time.monotonic()
    for i in range(24 * 4):
        c.handle(MidiEvent("clock", timestamp=start - 2.0 + i * 60 / (97 * 24)))
    assert tempo.bpm_spin.isReadOnly() and tempo.source_label.text() == "MIDI clock"
    qtbot.waitUntil(lambda: not tempo.bpm_spin.isReadOnly(), timeout=3000)  # the drain timer notices
    assert time.monotonic() - start >= 0.9  # not before the clock has been silent for a second
    assert tempo.source_label.text() == "" and c.tempo_source == "manual"
    assert tempo.bpm_spin.value() == pytest.approx(97.0, abs=0.05)
    tempo.bpm_spin.setValue(104.0)
    assert c.bpm == 104.0 and window.session_bpm() == 104.0
    c.set_bpm(110.0, "tap")
    assert c.bpm == 110.0 and tempo.source_label.text() == "tapped"


def test_two_clocks_on_two_inputs_the_first_sets_the_tempo(make_window, no_midi_system):
    """Clocks from two inputs at once (two DAWs, or a drum machine beside the DAW): pulses interleaved would read as
    neither's tempo; the first input that sent a clock sets it, the other's pulses are left out until it stops."""
    import time

    window = make_window()
    c = window.midi.controller
    start = time.monotonic()  # fed at once: the pulses' times run ahead of the clock that tells a stopped clock
    events = [MidiEvent("clock", timestamp=start + i * 60 / (97 * 24), source="daw:out") for i in range(96)]
    events += [MidiEvent("clock", timestamp=start + 0.01 + i * 60 / (140 * 24), source="drums:out") for i in range(138)]
    for event in sorted(events, key=lambda e: e.timestamp):
        c.handle(event)
    assert c.bpm == pytest.approx(97.0, abs=0.1) and c.tempo_source == "clock"


def test_daw_start_stop_drive_the_transport(make_window, no_midi_system, qtbot):
    """Start auditions the shown take (or says why it cannot: no audio device here), Stop stops it, Song Position
    moves the editor's cursor, Continue plays again. The audio tier checks the sound itself."""
    window = make_window()
    c = window.midi.controller
    c.set_bpm(120.0)
    attempts = []
    window.auditioner.started.connect(lambda entry: attempts.append("started"))
    window.auditioner.message.connect(lambda text: attempts.append("message"))
    entry = entry_of(tone_clip(440, seconds=3.0))
    window.candidates.show_entries([entry])
    window.show_entry(entry)
    c.handle(MidiEvent("start"))
    assert attempts
    c.handle(MidiEvent("stop"))
    assert not window.auditioner.is_playing
    c.handle(parse_message([0xF2, 8, 0]))  # Song Position: 8 sixteenths = 2 beats = 1 s at 120 BPM
    assert c.transport_state.state.beats == pytest.approx(2.0)
    editor = getattr(window, "editor", None)
    if editor is not None:
        assert editor.view.cursor() == pytest.approx(1.0)
    before = len(attempts)
    c.handle(MidiEvent("continue"))
    assert len(attempts) > before
    window.auditioner.stop()


def test_music_mode_in_bars_is_exact(tiny_window, qtbot):
    window = tiny_window
    panel = window.generation_panel
    panel.set_mode("music")
    panel.set_model(window.settings.local_models[0])
    row = window.midi.bars_row
    assert row.isVisibleTo(panel)
    window.midi.controller.set_bpm(97.0)
    row.enabled_box.setChecked(True)
    row.bars_spin.setValue(1)
    fill_panel(window, prompt="drum loop", steps=2, candidates=1)
    with qtbot.waitSignal(window.jobs.job_finished, timeout=120_000) as finished:
        panel.request_generate()
    result = finished.args[1]
    clip = result.candidates[0].clip
    assert clip.frames == round(4 * 60 / 97.0 * clip.sample_rate)
    assert result.candidates[0].settings["bar_locked"] and result.candidates[0].settings["bpm"] == 97.0
    panel.set_mode("sound")
    assert not row.isVisibleTo(panel)


def test_more_like_this_keeps_a_takes_bar_lock(tiny_window, qtbot):
    """"More like this" on a bar-locked take: the new takes have its bars, tempo, meter and ending, whatever the
    session tempo and the bars row say now."""
    window = tiny_window
    panel = window.generation_panel
    panel.set_mode("music")
    panel.set_model(window.settings.local_models[0])
    c, row = window.midi.controller, window.midi.bars_row
    c.set_bpm(150.0)
    window.midi.tempo.meter_spin.setValue(7)  # 7/8, set where the user sets it
    unit = window.midi.tempo.unit_combo
    unit.setCurrentIndex(unit.findData(8))
    row.enabled_box.setChecked(True)
    row.bars_spin.setValue(2)
    row.ending_combo.setCurrentIndex(row.ending_combo.findData("close-loop"))
    fill_panel(window, prompt="drum loop", steps=2, candidates=1)
    with qtbot.waitSignal(window.jobs.job_finished, timeout=120_000) as finished:
        panel.request_generate()
    entry = window.candidates.cards[0].entry
    assert row.bpm_spin.value() == 150.0 and row.tempo_label.text() == "7/8 · 2.80 s"
    lock = {k: entry.settings[k] for k in ("bars", "bpm", "beats_per_bar", "beat_unit", "ending")}
    assert lock == {"bars": 2, "bpm": 150.0, "beats_per_bar": 7, "beat_unit": 8, "ending": "close-loop"}

    c.set_bpm(97.0)  # the session moved on; the bars row now says otherwise
    c.set_beats_per_bar(4)
    c.set_beat_unit(4)
    row.bars_spin.setValue(1)
    row.enabled_box.setChecked(False)
    with qtbot.waitSignal(window.jobs.job_finished, timeout=120_000) as finished:
        job = window.more_like_this(entry)
    assert job is not None and job.spec.extra["bar_lock"] == lock
    again = finished.args[1].candidates[0]
    assert again.seed != entry.seed
    assert {k: again.settings[k] for k in lock} == lock and again.settings["bar_locked"]
    assert again.clip.frames == round(2 * 7 * 30 / 150.0 * again.clip.sample_rate)
    panel.set_mode("sound")


def test_compact_mode_toggles_and_remembers_its_place(make_window, settings, no_midi_system, qtbot):
    window = make_window()
    window.candidates.show_entries([entry_of(tone_clip(440))])
    window.midi.compact_action.trigger()
    compact = window.midi.compact
    assert compact.isVisible() and compact.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    compact.refresh_takes()
    assert len(compact.chips) == 1 and compact.chips[0].handle.text() == "⠿"
    compact.prompt_edit.setText("rain on a tin roof")
    compact.prompt_edit.textEdited.emit("rain on a tin roof")
    assert window.generation_panel.prompt_edit.text() == "rain on a tin roof"
    compact.move(123, 145)
    qtbot.wait(50)
    window.midi.compact_action.trigger()
    assert not compact.isVisible()
    assert window.midi.controller.store.compact_geometry is not None
    window.midi.compact_action.trigger()
    assert compact.isVisible()


def test_compact_window_opens_where_it_was_left_at_the_next_start(make_window, settings, no_midi_system, qtbot):
    """Moved and resized, then the app quits with it open: the next start's compact window is shown at that place
    and size (saved in studio.ini, restored before it is shown)."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QApplication

    first = make_window()
    first.midi.set_compact(True)
    compact = first.midi.compact
    qtbot.waitExposed(compact)
    screen = compact.screen().availableGeometry()
    place = QRect(screen.x() + 211, screen.y() + 157, compact.minimumSizeHint().width() + 30, 460)
    compact.setGeometry(place)
    qtbot.waitUntil(lambda: compact.geometry() == place, timeout=3000)
    first.close()  # quitting with the compact window open
    qtbot.waitUntil(lambda: not compact.isVisible(), timeout=3000)
    first.deleteLater()
    QApplication.processEvents()

    second = make_window()  # the next start, same settings file
    assert second.midi.compact is None
    second.midi.compact_action.trigger()
    again = second.midi.compact
    qtbot.waitExposed(again)
    assert again.isVisible() and again.geometry() == place
    again.move(place.x() + 40, place.y() + 25)  # moved again: remembered as it moves
    qtbot.waitUntil(lambda: again.pos().x() == place.x() + 40, timeout=3000)
    third = make_window()
    third.midi.set_compact(True)
    qtbot.waitExposed(third.midi.compact)
    assert third.midi.compact.pos() == again.pos() == place.topLeft() + QPoint(40, 25)  # frame positions


def test_extend_loop_uses_the_session_tempo(tiny_window, qtbot, tmp_path, no_midi_system):
    """The editor's Extend loop adds bars at the session tempo (here 97 BPM) instead of estimating one."""
    window = tiny_window
    rate = 16_000
    t = np.arange(int(2.0 * rate)) / rate
    path = save_clip(Clip((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate), tmp_path / "loop.wav")
    window.editor.import_paths([path])
    window.midi.controller.set_bpm(97.0)
    job = window.editor.generative.extend_loop({"bars": 1, "steps": 2})
    assert job is not None and job.spec.extra["bpm"] == 97.0
    qtbot.waitUntil(lambda: job.done, timeout=180_000)
    assert job.status == "finished", job.error
    ctl = window.editor.controller
    qtbot.waitUntil(lambda: ctl.session is not None and ctl.session.position == 1, timeout=10_000)
    assert ctl.clip().frames == len(t) + round(4 * 60 / 97.0 * rate)
    ctl.discard_edits()  # closing the window would otherwise ask about the unsaved edit


def test_the_pad_kit_is_remembered(make_window, settings, no_midi_system, tmp_path):
    from studio.midi.controller import MidiController

    window = make_window()
    c = window.midi.controller
    path = save_clip(tone_clip(880, seconds=0.3), tmp_path / "snare.wav")
    assert window.midi.pads.assign_file(4, path)
    c.set_pad_mode(4, "gate")
    c.set_bank(2)
    assert window.midi.pads.assign_file(0, path)  # bank C, pad 1
    window.candidates.show_entries([entry_of(tone_clip(440))])
    assert window.candidates.cards[0].entry.library_id is None  # a candidate only in memory (not in the library)
    assert window.midi.pads.assign_selected(1)

    again = MidiController(settings)
    assert again.kit_problems == []
    assert again.pads.pad(4, bank=0).label == "snare" and again.pads.pad(4, bank=0).mode == "gate"
    assert again.pads.pad(0, bank=2).clip.frames == tone_clip(880, seconds=0.3).frames
    kept = again.pads.pad(1, bank=2)  # the in-memory take: a durable copy under <data>/pads
    assert kept.label == "tone" and np.allclose(kept.clip.samples, tone_clip(440).samples, atol=1e-6)
    assert again.player.has(again.pads.slot(0, bank=2)) and again.player.has(again.pads.slot(1, bank=2))
    again.close()

    path.unlink()
    gone = MidiController(settings)
    assert len(gone.kit_problems) == 2 and "not found" in gone.kit_problems[0]
    assert gone.pads.pad(1, bank=2).label == "tone"  # its copy is the app's own: not lost with the user's file
    gone.close()


def test_a_card_or_library_row_dropped_on_a_pad_outlives_the_drag_out_cache(make_window, settings, no_midi_system,
                                                                            tmp_path):
    """A card or a library row drags a render under <cache>/dragout (purged after a week): dropped on a pad, the
    take is copied where the pad kit keeps it; a pad reassigned or cleared leaves no copy behind."""
    import shutil

    from core.paths import data_dir
    from studio.export.dragout import clip_mime_data, dragout_folder
    from studio.midi.controller import MidiController

    window = make_window()
    grid = window.midi.pads
    entry = entry_of(tone_clip(550, seconds=0.4), "glass bell")
    mime = clip_mime_data(entry.clip, entry.provenance())
    button = grid.buttons[2]
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    button.dropEvent(drop)
    assert "glass-bell" in button.text()
    shutil.rmtree(dragout_folder())  # the cache is cleaned
    again = MidiController(settings)
    assert again.kit_problems == []
    assert np.allclose(again.pads.pad(2).clip.samples, entry.clip.samples, atol=1e-4)
    again.close()
    copies = list((data_dir() / "pads").glob("*.wav"))
    assert len(copies) == 1
    window.midi.controller.clear_pad(2)
    assert not copies[0].exists()


def test_compact_take_chips_are_told_apart_and_fit_without_scrolling_sideways(make_window, no_midi_system, qtbot):
    """Eight takes with close scores: each chip reads "#n score", the full label is in its tooltip, and the strip
    wraps onto rows instead of scrolling sideways (every chip read "score 0.329 · seed 53…")."""
    from studio.shell.clip_entry import ClipEntry

    window = make_window()
    entries = [ClipEntry(clip=tone_clip(440), prompt="door slam", mode="sound", model="tiny", licence="MIT",
                         seed=5300 + i, score=0.3291 + i / 10_000) for i in range(8)]
    window.candidates.show_entries(entries)
    window.midi.compact_action.trigger()
    compact = window.midi.compact
    qtbot.waitExposed(compact)
    compact.resize(420, 420)
    compact.refresh_takes()
    expected = [f"#{n} 0.33" for n in range(1, 9)]
    assert settled(qtbot, lambda: [chip.play_button.text() for chip in compact.chips] == expected), (
        [chip.play_button.text() for chip in compact.chips])
    assert all(f"seed {5300 + i}" in chip.play_button.toolTip() for i, chip in enumerate(compact.chips))
    assert settled(qtbot, lambda: compact.scroll.horizontalScrollBar().maximum() == 0), (
        compact.scroll.horizontalScrollBar().maximum())
    width = compact.scroll.viewport().width()
    for chip in compact.chips:
        assert chip.isVisibleTo(compact) and chip.geometry().right() <= width, (chip.geometry(), width)
        metrics = chip.play_button.fontMetrics()
        assert metrics.horizontalAdvance(chip.play_button.text()) <= chip.play_button.width()
    window.midi.compact_action.trigger()
