"""Recording in the window without a sound card (offscreen Qt): the level meter widget, the no-input path,
count-in, takes landing in the library and the waveform, punch-in, and interrupted takes offered back.
Recording from a real input (a PulseAudio null sink) is in tests/test_recording_audio.py."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.audio.clip import Clip
from core.devices.meter import LevelMeter, MeterReading
from core.devices.recording import RecordedTake
from core.devices.takes import TakeWriter, pending_takes, recordings_dir


def sine(freq=440.0, seconds=0.5, rate=48_000, amplitude=0.5, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    wave = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


def written_take(samples, rate=48_000, device="Test mic (ALSA)", folder=None) -> RecordedTake:
    """A take as the recorder leaves it: streamed to a real file in the recordings folder, then read back."""
    writer = TakeWriter.create(rate, samples.shape[1], device, folder=folder)
    writer.write(samples)
    path = writer.close()
    clip = pending_takes(path.parent)[0].load()
    return RecordedTake(clip=clip, path=path, device=device, sample_rate=rate, channels=samples.shape[1],
                        started=writer.note["started"])


# ---- the meter widget ----------------------------------------------------------------------------------

@pytest.fixture
def meter_widget(qtbot):
    from studio.recording.meter_widget import LevelMeterWidget

    widget = LevelMeterWidget()
    widget.resize(300, 30)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def red_pixels(image, rect):
    count = 0
    for x in range(int(rect.left()), int(rect.right())):
        for y in range(int(rect.top()), int(rect.bottom())):
            colour = image.pixelColor(x, y)
            count += colour.red() > 180 and colour.green() < 100
    return count


def test_meter_widget_draws_levels_hold_tick_and_clip_light_and_a_click_clears_it(meter_widget, qtbot):
    from studio.recording.meter_widget import fraction

    meter = LevelMeter(rate=48_000, channels=2)
    block = sine(channels=2)
    block[:, 1] *= 0.1
    block[100, 0] = 1.0  # one clipped sample on the left channel
    meter_widget.set_reading(meter.process(block))
    assert meter_widget.clip_lit and "CLIP" in meter_widget.levels_text()
    bar = meter_widget.bar_rect()
    assert meter_widget.hold_x(0) == pytest.approx(bar.right(), abs=0.5)          # the clip is at 0 dBFS
    assert meter_widget.hold_x(1) == pytest.approx(bar.left() + fraction(-26.02) * bar.width(), abs=0.5)
    image = meter_widget.grab().toImage()
    assert red_pixels(image, meter_widget.clip_light_rect()) > 50  # the light is lit, for real, on screen

    with qtbot.waitSignal(meter_widget.clip_reset_requested):
        qtbot.mouseClick(meter_widget, Qt.MouseButton.LeftButton, pos=meter_widget.clip_light_rect().center().toPoint())
    meter.reset_clip()
    meter_widget.set_reading(meter.process(sine(channels=2) * 0.2))
    assert not meter_widget.clip_lit
    assert red_pixels(meter_widget.grab().toImage(), meter_widget.clip_light_rect()) == 0


def test_meter_widget_bar_length_follows_the_level(meter_widget):
    loud = MeterReading((-6.0,), (-9.0,), (-6.0,), (False,))
    quiet = MeterReading((-40.0,), (-43.0,), (-6.0,), (False,))

    def lit_width(reading):
        meter_widget.set_reading(reading)
        image = meter_widget.grab().toImage()
        y = int(meter_widget.bar_rect().center().y())
        return sum(image.pixelColor(x, y).green() > 120 for x in range(int(meter_widget.bar_rect().right())))

    from studio.recording.meter_widget import fraction

    bar = meter_widget.bar_rect()  # the solid bar is the RMS level (the peak is drawn fainter)
    assert lit_width(loud) == pytest.approx(bar.left() + fraction(-9.0) * bar.width(), abs=2)
    assert lit_width(quiet) == pytest.approx(bar.left() + fraction(-43.0) * bar.width() + 2, abs=2)  # + hold tick


# ---- the window ------------------------------------------------------------------------------------------

def open_window(make_window):
    """A window whose start-up offers (interrupted takes, unclosed edit sessions) have run with nothing pending,
    so no modal question pops up later in the test."""
    window = make_window()
    QApplication.processEvents()
    return window


def test_no_input_device_puts_one_clear_line_in_the_status_bar_and_nothing_breaks(make_window, qtbot,
                                                                                   without_sound_server):
    from core.devices.playback import PlaybackUnavailable
    from core.devices.recording import input_devices

    try:
        if input_devices():
            pytest.skip("this machine has audio inputs outside any sound server")
    except PlaybackUnavailable:
        pass  # no PortAudio: the same one-line path
    window = open_window(make_window)
    panel = window.recording.panel
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    message = window.statusBar().currentMessage()
    assert message.startswith("No audio input device found") or "PortAudio" in message
    assert window.error_banner.isVisibleTo(window) and "\n" not in message
    assert window.recording.controller.state == "idle" and panel.record_button.isEnabled()
    assert not list(recordings_dir().glob("take-*"))
    assert panel.input_label.text().startswith(("No audio input", "Audio is unavailable"))


def test_a_visual_count_in_counts_the_beats_then_starts_recording(make_window, qtbot, without_sound_server):
    window = open_window(make_window)
    settings = window.settings
    settings.count_in_mode, settings.count_in_beats, settings.count_in_tempo = "visual", 3, 600.0
    controller = window.recording.controller
    beats = []
    controller.count_in.connect(lambda beat, of: beats.append((beat, of, window.recording.panel.time_label.text())))
    states = []
    controller.state_changed.connect(states.append)
    window.recording.toggle()
    assert controller.state == "counting" and not window.recording.panel.record_button.isEnabled()
    qtbot.waitUntil(lambda: controller.state == "idle" or controller.state == "recording", timeout=3000)
    qtbot.waitUntil(lambda: len(beats) == 3, timeout=3000)
    assert [b[:2] for b in beats] == [(1, 3), (2, 3), (3, 3)]
    assert beats[-1][2] == "Count-in 3 / 3"
    assert states[0] == "counting"  # then recording, or idle with the no-input line (no sound server here)
    window.recording.controller.stop()


def test_stop_during_count_in_records_nothing(make_window, qtbot):
    window = open_window(make_window)
    window.settings.count_in_mode, window.settings.count_in_tempo = "visual", 30.0
    controller = window.recording.controller
    controller.start()
    assert controller.state == "counting"
    controller.stop()
    assert controller.state == "idle" and "Count-in cancelled" in window.statusBar().currentMessage()
    assert not list(recordings_dir().glob("take-*"))


def test_a_finished_take_lands_in_the_library_and_the_waveform_with_device_rate_and_time(make_window, qtbot):
    window = open_window(make_window)
    take = written_take(sine(seconds=0.75, channels=2))
    window.settings.take_counter = 4  # the controller counts the take before handing it over
    window.recording.land(take, None)
    [item] = window.library.search("Take 4")
    assert item.mode == "recording" and item.model == "Test mic (ALSA)" and item.sample_rate == 48_000
    assert item.settings["device"] == "Test mic (ALSA)" and item.settings["channels"] == 2
    assert item.settings["recorded_at"] == take.started == item.created
    np.testing.assert_array_equal(item.load_clip().samples, take.clip.samples)
    assert window.selected_entry().library_id == item.id
    assert window.waveform.clip().frames == take.clip.frames
    assert not take.path.exists() and pending_takes() == []  # safe in the library: the pending file went
    assert "Take 4" in window.statusBar().currentMessage()


def test_punch_in_replaces_the_selection_in_the_editor_as_an_undoable_edit(make_window, qtbot):
    from studio.shell.clip_entry import ClipEntry

    window = open_window(make_window)
    base_clip = Clip(sine(freq=220.0, seconds=2.0, rate=16_000, amplitude=0.3), 16_000)
    base_item = window.library.add(base_clip, prompt="a low hum", mode="sound", model="tiny", licence="MIT", seed=3)
    window.show_entry(ClipEntry.from_library(base_item))
    window.waveform.set_selection(0.5, 1.0)
    window.recording.record(into_selection=True)  # fixes the clip and range; no input here, so no recording
    window.recording.controller.stop()

    take = written_take(sine(freq=1000.0, seconds=0.6, rate=48_000, amplitude=0.5, channels=2))  # longer
    window.settings.take_counter = 1
    window.recording.land(take, (0.5, 1.0))
    editor = window.editor.controller
    new = editor.clip()
    assert new.sample_rate == 16_000 and new.channels == 1 and new.frames == base_clip.frames  # cut to 0.5 s
    join = int(0.02 * 16_000)  # the equal-power crossfades at the two joins
    np.testing.assert_array_equal(new.samples[:8000 - join], base_clip.samples[:8000 - join])
    np.testing.assert_array_equal(new.samples[16000 + join:], base_clip.samples[16000 + join:])
    middle = new.samples[8000 + join:16000 - join, 0]
    assert np.argmax(np.abs(np.fft.rfft(middle))) * 16_000 / len(middle) == pytest.approx(1000, abs=20)
    assert editor.session.history()[-1].label == "Punch-in recording"
    assert window.selected_entry().clip is new and window.waveform.clip() is new
    assert "Punched in 0.50 s at 0.50 s" in window.statusBar().currentMessage()
    [raw] = window.library.search("Take 1")  # the raw take is kept in the library
    assert raw.settings["device"] == "Test mic (ALSA)"
    editor.undo()
    np.testing.assert_array_equal(editor.clip().samples, base_clip.samples)
    np.testing.assert_array_equal(window.library.get(base_item.id).load_clip().samples, base_clip.samples)


def test_punch_in_without_the_editor_stores_a_new_item_derived_from_the_original(tmp_path):
    from core.library.store import Library
    from studio.recording.landing import punch_in
    from studio.shell.clip_entry import ClipEntry

    library = Library()
    base_clip = Clip(sine(freq=220.0, seconds=1.0, rate=48_000, amplitude=0.3, channels=2), 48_000)
    base_item = library.add(base_clip, prompt="a low hum", mode="sound", model="tiny", licence="MIT", seed=3)
    take = written_take(sine(freq=1000.0, seconds=0.2, rate=48_000, amplitude=0.5), folder=tmp_path)  # shorter
    result = punch_in(library, ClipEntry.from_library(base_item), (0.25, 0.75), take)
    punched = result.entry
    assert punched.library_id != base_item.id and punched.prompt == "a low hum (punch-in)"
    assert punched.settings["derived_from"] == base_item.id
    assert punched.settings["operations"][0]["op"] == "punch_in"
    assert punched.clip.channels == 2 and punched.clip.frames == 48_000 - int(0.3 * 48_000)  # selection -> take
    np.testing.assert_array_equal(library.get(base_item.id).load_clip().samples, base_clip.samples)


def test_record_into_selection_without_a_selection_says_what_to_do(make_window):
    window = open_window(make_window)
    assert window.recording.record(into_selection=True) is False
    assert "drag across" in window.statusBar().currentMessage()
    assert window.recording.controller.state == "idle"


def test_interrupted_takes_are_offered_at_the_next_start_and_recovered_into_the_library(make_window, qtbot):
    window = open_window(make_window)
    writer = TakeWriter.create(48_000, 1, "USB mic (ALSA)")
    writer.write(sine(seconds=1.5))
    writer.flush()  # then the app "dies": the writer is never closed; offer_pending_takes runs at the next start
    asked = []
    items = window.recording.offer_pending_takes(ask=lambda takes: asked.append(takes) or "later")
    assert items == [] and len(asked[0]) == 1 and asked[0][0].seconds == pytest.approx(1.5)
    assert "1.5 s from USB mic (ALSA)" in asked[0][0].describe()
    [item] = window.recording.offer_pending_takes(ask=lambda takes: "recover")
    assert item.prompt == "Recovered take" and item.settings["recovered"] is True
    assert item.settings["device"] == "USB mic (ALSA)" and item.seconds == pytest.approx(1.5)
    np.testing.assert_array_equal(item.load_clip().samples, sine(seconds=1.5))
    assert pending_takes() == [] and "Recovered 1 interrupted take" in window.statusBar().currentMessage()


def test_discarding_interrupted_takes_removes_their_files(make_window):
    window = open_window(make_window)
    writer = TakeWriter.create(48_000, 1, "mic")
    writer.write(sine(seconds=0.2))
    writer.flush()
    assert window.recording.offer_pending_takes(ask=lambda takes: "discard") == []
    assert pending_takes() == [] and window.library.count() == 0


def test_input_device_choice_is_remembered_and_shown(make_window, settings):
    window = open_window(make_window)
    window.recording.set_input_device("no such microphone")
    assert settings.input_device == "no such microphone"
    assert window.recording.panel.input_label.text() == window.statusBar().currentMessage()
    window.recording.fill_input_menu()
    labels = [a.text() for a in window.recording.input_menu.actions()]
    assert labels  # a device list, "System default", or the one line saying why there is none
    window.recording.set_input_device(None)
    assert settings.input_device is None


def test_use_last_take_as_speech_voice_without_a_take_says_so(make_window):
    window = open_window(make_window)
    window.recording.use_last_take_as_voice()
    assert "Record a take first" in window.statusBar().currentMessage()


def test_r_records_outside_text_fields_and_types_an_r_inside_them(make_window, qtbot, without_sound_server):
    window = open_window(make_window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    prompt = window.generation_panel.prompt_edit
    prompt.setFocus()
    prompt.clear()
    qtbot.keyClick(prompt, Qt.Key.Key_R)
    assert prompt.text() == "r" and window.recording.controller.state == "idle"
    window.candidates.setFocus()
    statuses = []
    window.recording.controller.status.connect(statuses.append)
    qtbot.keyClick(window.candidates, Qt.Key.Key_R)
    assert statuses, "R outside a text field should ask the recorder to record"


def test_closing_the_window_while_recording_lands_the_take_in_the_library(make_window, qtbot):
    """The controller's stop path on close: the take in progress is kept, not dropped."""
    from core.devices.meter import LevelMeter
    from core.devices.playback import AudioDevice
    from core.devices.recording import Recorder
    from core.devices.ringbuffer import RingBuffer

    window = open_window(make_window)
    controller = window.recording.controller
    recorder = Recorder()  # in its recording state as start() leaves it, fed through its own callback
    recorder.input = AudioDevice(3, "Desk mic", "ALSA", 0, 1, 48_000)
    recorder._ring, recorder.meter = RingBuffer(48_000, 1), LevelMeter(48_000, 1)
    recorder.writer = TakeWriter.create(48_000, 1, recorder.input.label)
    recorder._recording = True
    controller.recorder, controller.state = recorder, "recording"
    block = sine(seconds=0.4)
    recorder._callback(block, len(block), None, None)
    window.close()
    [item] = window.library.search("Take 1")
    assert item.settings["device"] == "Desk mic (ALSA)"
    np.testing.assert_array_equal(item.load_clip().samples, block)
    assert pending_takes() == []


def test_the_transport_record_button_asks_the_recorder_and_shows_its_state(make_window, qtbot, without_sound_server):
    window = open_window(make_window)
    transport = getattr(window, "transport", None)
    if transport is None:
        pytest.skip("this build has no editor transport bar")
    statuses = []
    window.recording.controller.status.connect(statuses.append)
    window.settings.count_in_mode, window.settings.count_in_tempo = "visual", 30.0  # stays counting: no device needed
    qtbot.mouseClick(transport.record_button, Qt.MouseButton.LeftButton)
    assert window.recording.controller.state == "counting" and transport.record_button.isChecked()
    qtbot.mouseClick(transport.record_button, Qt.MouseButton.LeftButton)  # again: stop
    assert window.recording.controller.state == "idle" and not transport.record_button.isChecked()
    assert statuses[-1].startswith("Count-in cancelled")
