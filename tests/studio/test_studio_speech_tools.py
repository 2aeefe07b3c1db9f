"""Speech mode's podcaster tools on real widgets: a voice from a recording, and the script editor
(checked up front, rendered as jobs, one line re-rolled alone, exported and read back)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from core.audio.clip import Clip, load_clip
from core.audio.provenance import read_sidecar
from core.speech import parse_script

JOB_TIMEOUT_MS = 240_000
SPEECH_FILE = "speech_front_center_48k_mono.wav"



@pytest.fixture
def speech_file(corpus_files):
    return next(p for p in corpus_files if p.name == SPEECH_FILE)


def test_a_voice_from_a_corpus_recording_speaks_a_take(qtbot, speech_window, speech_file):
    window = speech_window
    tools, panel = window.speech_tools, window.generation_panel
    assert tools.reference.text_edit.isVisible() and tools.script.isVisible()
    assert tools.reference.set_reference_file(speech_file)
    assert "s of speech (of 1.4 s at 48000 Hz)" in tools.reference.status.text()
    tools.reference.text_edit.setText("Front center.")
    panel.transcription_edit.setText("Hello there.")
    with qtbot.waitSignal(window.jobs.job_finished, timeout=JOB_TIMEOUT_MS) as done:
        panel.request_generate()
    best = done.args[1].best
    assert best.settings["reference"] == SPEECH_FILE and best.settings["reference_text"] == "Front center."
    assert best.settings["transcription"] == "Front center. Hello there."  # spoken after the reference
    assert best.clip.seconds > 0.3 and np.abs(best.clip.mono).max() > 0
    assert window.candidates.cards and window.candidates.current().settings["reference"] == SPEECH_FILE

    (item,) = window.library.search(mode="speech")
    tools.reference.clear()  # Re-open settings names the voice the take needs
    window.library_panel.reopen_requested.emit(item)  # what the library's Re-open button sends
    assert f"spoken in the voice of {SPEECH_FILE}" in window.statusBar().currentMessage()
    assert panel.transcription_edit.text() == "Hello there."
    assert tools.reference.set_reference_file(speech_file)
    tools.reference.text_edit.setText("Front center.")

    take = window.candidates.current()  # More like this: the same words in the same reference voice
    with qtbot.waitSignal(window.jobs.job_finished, timeout=JOB_TIMEOUT_MS) as done:
        job = window.more_like_this(take)
    assert job.spec.extra["reference"].source == SPEECH_FILE and job.spec.request.transcription == "Hello there."
    again = done.args[1].best
    assert again.settings["transcription"] == "Front center. Hello there." and again.seed != best.seed
    tools.reference.clear()  # the voice it needs is no longer chosen: refused, not spoken in another voice
    assert window.more_like_this(take) is None and "spoken in the voice of" in window.error_banner.text()

    panel.set_mode("sound")  # the tools belong to Speech mode
    assert not tools.reference.text_edit.isVisible() and not tools.script.isVisible()


def test_bad_references_are_named_like_the_cli_and_start_no_job(speech_window, corpus_files, speech_file, tmp_path):
    window = speech_window
    tools, panel = window.speech_tools, window.generation_panel
    panel.transcription_edit.setText("Hello there.")

    tone = next(p for p in corpus_files if p.name.startswith("phone_busy"))  # a busy tone, 8 kHz
    assert not tools.reference.set_reference_file(tone)
    assert "no speech found in the reference" in tools.reference.status.text()
    panel.request_generate()
    assert window.jobs.jobs == {} and "no speech found" in window.statusBar().currentMessage()

    silence = tmp_path / "silence.wav"
    sf.write(str(silence), np.zeros(48_000, np.float32), 48_000)
    assert not tools.reference.set_reference_file(silence)
    assert "give at least 1 s" in tools.reference.status.text()

    speech = load_clip(speech_file)
    long = Clip(np.concatenate([speech.samples] * 6), speech.sample_rate)  # any rate: 48 kHz, ~6 x 1.9 s
    assert not tools.reference.set_reference_clip(long, "long take")
    assert "give at most 8 s" in tools.reference.status.text()
    panel.request_generate()
    assert window.jobs.jobs == {} and "at most 8 s" in window.statusBar().currentMessage()

    assert tools.reference.set_reference_file(speech_file)  # good audio, but the words said in it are missing
    panel.request_generate()
    assert window.jobs.jobs == {} and "needs the words spoken in it" in window.statusBar().currentMessage()

    tools.reference.text_edit.setText("Front center.")  # 59.7 s of new words fit alone, not after 1.4 s
    panel.transcription_edit.setText("This sentence keeps going on and on, " * 22 + "and on.")
    panel.request_generate()
    assert window.jobs.jobs == {} and "more than 60 s; speak fewer words" in window.statusBar().currentMessage()

    tools.reference.clear()
    assert not tools.reference.has_reference and tools.reference.reference_voice() is None


@pytest.mark.parametrize("text, line, message", [
    ("Hello.\n[ghost] Boo.\n", 2, "script line 2: unknown voice [ghost]"),
    ("# intro\n@voice host: a calm man\n[host] Hi.\n\n???\n", 5, "script line 5: nothing speakable"),
    ("Hi.\n" + "a very long line of many words " * 40 + "\n", 2, "script line 2: this line needs"),
])
def test_a_script_with_a_bad_line_names_it_and_starts_no_job(speech_window, text, line, message):
    window = speech_window
    box = window.speech_tools.script
    box.editor.setPlainText(text)
    assert not box.render_all()
    assert window.jobs.jobs == {}
    assert message in box.problem.text() and box.problem.isVisible()
    assert message in window.error_banner.text()
    assert box.problem_line == line
    (mark,) = box.editor.extraSelections()  # the line is marked in the editor, and the cursor is on it
    assert mark.cursor.blockNumber() == line - 1 and box.editor.textCursor().blockNumber() == line - 1


def _wait_all_done(qtbot, session):
    with qtbot.waitSignal(session.all_done, timeout=JOB_TIMEOUT_MS):
        pass


def test_render_all_reroll_one_line_and_export(qtbot, speech_window, tmp_path):
    window = speech_window
    tools = window.speech_tools
    box, session = tools.script, tools.session
    panel = window.generation_panel
    panel.seed_field.setValue(7)
    panel.seed_lock.setChecked(True)
    text = "@voice host: a calm male narrator\n[host] Welcome to episode 12.\nThanks.\n\n[host] Bye!\n"
    box.editor.setPlainText(text)
    box.pause_spin.setValue(0.3)
    box.voice_combo.setCurrentIndex(0)

    with qtbot.waitSignal(session.all_done, timeout=JOB_TIMEOUT_MS):
        assert box.render_all()
        assert len(window.jobs.jobs) == 3 and box.progress.isVisible()
    assert [s.status for s in session.states] == ["done"] * 3
    assert [s.result.best.seed for s in session.states] == [7, 7, 7]  # one seed for the script, like the CLI
    assert [s.result.best.settings["script_line"] for s in session.states] == [2, 3, 5]
    assert [s.result.best.settings["prompt"] for s in session.states] == [
        "a calm male narrator", "a calm narrator", "a calm male narrator"]  # untagged: the panel's voice
    assert box.table.rowCount() == 3 and box.table.item(1, 1).text().endswith("seed 7")
    cards = window.candidates.cards  # the whole script, then each line
    assert len(cards) == 4 and cards[0].entry.prompt == "script: script"
    assert not cards[0].more_button.isEnabled()
    before = [s.result.best.clip.samples.copy() for s in session.states]
    joined = session.result().joined
    assert joined.frames == sum(len(b) for b in before) + round(0.9 * 16_000)  # 0.3 s, then doubled

    with qtbot.waitSignal(session.all_done, timeout=JOB_TIMEOUT_MS):
        box.table.cellWidget(1, 3).click()  # Re-roll line 2
    after = [s.result.best.clip.samples for s in session.states]
    assert session.states[1].result.best.seed != 7
    assert not np.array_equal(after[1], before[1])
    assert np.array_equal(after[0], before[0]) and np.array_equal(after[2], before[2])

    folder = tmp_path / "episode"
    joined_path, line_paths = box.export_to(folder)
    assert joined_path == folder / "script.wav" and len(line_paths) == 3
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [n for p in [joined_path, *line_paths] for n in (p.name, p.name + ".json")])  # nothing half-written
    result = session.result()
    back = load_clip(joined_path)
    assert back.frames == result.joined.frames
    np.testing.assert_allclose(back.samples, np.clip(result.joined.samples, -1, 1), atol=1e-4)
    for path, state in zip(line_paths, session.states):
        np.testing.assert_allclose(load_clip(path).mono, np.clip(state.result.best.clip.mono, -1, 1), atol=1e-4)
    record = read_sidecar(joined_path)["settings"]["lines"]
    assert [r["file"] for r in record] == [p.name for p in line_paths]
    assert record[1]["seed"] == session.states[1].result.best.seed

    saved = tmp_path / "episode.txt"  # the file format is loa speak --script's
    assert box.save_file(saved) and saved.read_text() == text
    assert [line.text for line in parse_script(saved.read_text(), "v").lines] == ["Welcome to episode 12.", "Thanks.",
                                                                                  "Bye!"]
    box.editor.setPlainText("")
    assert box.open_file(saved) and box.editor.toPlainText() == text and box.name == "episode"


def test_cancel_stops_the_script_and_keeps_no_half_take(qtbot, speech_window):
    window = speech_window
    box, session = window.speech_tools.script, window.speech_tools.session
    window.generation_panel.steps_spin.setValue(200)
    box.editor.setPlainText("One.\nTwo.\nThree.\n")
    assert box.render_all()
    assert box.cancel_button.isEnabled()
    last = max(window.jobs.jobs.values(), key=lambda job: job.id)
    with qtbot.waitSignal(window.jobs.job_done, timeout=JOB_TIMEOUT_MS, check_params_cb=lambda job: job is last):
        box.cancel_button.click()
    qtbot.waitUntil(lambda: not session.running, timeout=JOB_TIMEOUT_MS)
    assert {s.status for s in session.states} == {"cancelled"}
    assert all(s.result is None for s in session.states)
    assert not box.export_button.isEnabled() and box.render_button.isEnabled()


def test_a_recorded_take_and_a_library_item_become_the_reference(make_window, speech_file, tmp_path):
    """Record > Use last take as speech voice (studio.recording) and "Use selected" both land in the box."""
    from core.devices.recording import RecordedTake

    window = make_window()
    tools = window.speech_tools
    window.generation_panel.set_mode("sound")
    clip = load_clip(speech_file)
    window.recording.controller.last_take = RecordedTake(clip, tmp_path / "take-3.wav", "test input", 48_000, 1,
                                                         "2026-01-01T00:00:00")
    window.recording.use_last_take_as_voice()
    assert window.generation_panel.mode.name == "speech" and tools.reference.text_edit.isVisible()
    assert tools.reference.has_reference and tools.reference.problem is None

    tools.reference.clear()
    item = window.library.add(clip, prompt="a calm narrator", mode="speech", model="m", licence="l", seed=1,
                              settings={"text": "Front center."})
    window.library_panel.library_changed()
    window._on_library_item_selected(item)
    tools.reference.use_selected_button.click()
    assert tools.reference.text_edit.text() == "Front center."  # a speech take brings the words it says
    voice = tools.reference.reference_voice()
    assert voice.text == "Front center." and voice.source == "“Front center.”"
    assert tools.reference.path == item.audio_path  # a library item's file: the choice survives a restart


def test_the_script_being_written_and_the_reference_voice_survive_a_restart(make_window, settings, qtbot,
                                                                            speech_file):
    window = make_window()
    assert window.speech_tools.reference.set_reference_file(speech_file)
    window.speech_tools.reference.text_edit.setText("Front center.")
    box = window.speech_tools.script
    box.editor.setPlainText("@voice host: a calm man\n[host] Episode twelve.\n")
    box.pause_spin.setValue(1.5)
    qtbot.waitUntil(lambda: box.draft_path.exists(), timeout=5_000)
    window.close()

    again = make_window()
    restored = again.speech_tools.script
    assert restored.editor.toPlainText() == "@voice host: a calm man\n[host] Episode twelve.\n"
    assert restored.pause_spin.value() == 1.5
    qtbot.waitUntil(lambda: restored.table.rowCount() == 1, timeout=5_000)  # checked again once shown
    voice = again.speech_tools.reference.reference_voice()
    assert voice.source == SPEECH_FILE and voice.text == "Front center."


def test_voice_tags_and_pauses_from_the_editor(speech_window):
    from PySide6.QtGui import QTextCursor

    box = speech_window.speech_tools.script
    box.editor.setPlainText("@voice host: a calm man\nHello there.\n@pause 2\nBye.\n")
    assert box.check(quiet=True) is not None
    labels = [box.voice_combo.itemText(i) for i in range(box.voice_combo.count())]
    assert any(label.startswith("[host]") for label in labels) and any("Narrator, calm" in t for t in labels)
    cursor = QTextCursor(box.editor.document().findBlockByNumber(1))
    box.editor.setTextCursor(cursor)

    def choose(name):
        box.voice_combo.activated.emit(box.voice_combo.findData(name))
        return box.editor.document().findBlockByNumber(1).text()

    assert choose("host") == "[host] Hello there."
    assert choose("Narrator, calm") == "[Narrator, calm] Hello there."  # a preset, replacing the tag
    assert choose("") == "Hello there."  # the panel's voice
    script = box.check(quiet=True)
    assert [line.pause_before for line in script.lines] == [0.0, 2.0]
    assert [s.line.text for s in box.session.states] == ["Hello there.", "Bye."]
    assert box.summary.text().startswith("2 lines, about")


def test_typing_a_script_keeps_every_key_from_the_window_shortcuts(qtbot, speech_window):
    """Space plays, R records, K keeps in the window: typed into the script they are just letters."""
    window = speech_window
    box = window.speech_tools.script
    box.editor.setFocus()
    qtbot.keyClicks(box.editor, "Record a take, keep it. Stop!")
    assert box.editor.toPlainText() == "Record a take, keep it. Stop!"
    assert not window.recording.controller.is_busy and not window.auditioner.is_playing


def test_export_asks_before_replacing_files(qtbot, speech_window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    window = speech_window
    box, session = window.speech_tools.script, window.speech_tools.session
    box.editor.setPlainText("Hi.\n")
    with qtbot.waitSignal(session.all_done, timeout=JOB_TIMEOUT_MS):
        assert box.render_all()
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "script.wav").write_bytes(b"the user's own file")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    box.export_dialog()
    assert asked[0] == f"script.wav already exists in {folder}. Replace it?"  # one file: no "file(s)"
    assert (folder / "script.wav").read_bytes() == b"the user's own file"
    assert not (folder / "01-hi.wav").exists()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    box.export_dialog()
    assert load_clip(folder / "script.wav").frames == session.result().joined.frames
    assert (folder / "01-hi.wav").exists()
    assert window.statusBar().currentMessage().endswith(" and 1 line file."), window.statusBar().currentMessage()
