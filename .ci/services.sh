# Sourced by .ci/run: start_services / stop_services for Xvfb, a PulseAudio null sink and a JACK server
# (dummy driver: MIDI over JACK for the MIDI tests; no ALSA sequencer exists on these machines).
# A tier whose service did not start is skipped by its tests locally, and fails them under CI=true
# (tests/audio_services.py service_missing): a green CI run has run every tier.
#
#   . .ci/services.sh; start_services; trap stop_services EXIT
#
# start_services exports DISPLAY (a free display Xvfb chose itself), XDG_RUNTIME_DIR (a fresh 0700 folder
# holding PulseAudio's socket) and LOA_SERVICE_LOG (where both services log). stop_services ends them by
# their own PIDs and removes the runtime folder.

LOA_XVFB_PID=""
LOA_PULSE_PID=""
LOA_JACK_PID=""
LOA_SERVICE_DIR=""

_loa_note() { echo "services: $*" >&2; }

_loa_start_xvfb() {
  if ! command -v Xvfb >/dev/null 2>&1; then
    _loa_note "Xvfb not installed; display tier will skip (fail under CI=true)"; return 0
  fi
  local fifo="$LOA_SERVICE_DIR/displayfd"
  mkfifo "$fifo"
  # -displayfd: Xvfb picks a free display number and writes it once it accepts connections.
  Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp -noreset 3>"$fifo" >>"$LOA_SERVICE_LOG" 2>&1 &
  LOA_XVFB_PID=$!
  local number=""
  read -r -t 20 number <"$fifo" || true
  rm -f "$fifo"
  if [ -z "$number" ] || ! kill -0 "$LOA_XVFB_PID" 2>/dev/null; then
    _loa_note "Xvfb did not start (see $LOA_SERVICE_LOG); display tier will skip (fail under CI=true)"
    kill "$LOA_XVFB_PID" 2>/dev/null || true; LOA_XVFB_PID=""; return 0
  fi
  export DISPLAY=":$number"
  _loa_note "Xvfb on DISPLAY=$DISPLAY (pid $LOA_XVFB_PID)"
}

_loa_start_pulse() {
  if ! command -v pulseaudio >/dev/null 2>&1 || ! command -v pactl >/dev/null 2>&1; then
    _loa_note "pulseaudio/pactl not installed; audio tier will skip (fail under CI=true)"; return 0
  fi
  # No default.pa (-n): only the native socket and one null sink, whose monitor is the default source.
  pulseaudio --daemonize=no --exit-idle-time=-1 --disallow-exit -n \
    --load="module-native-protocol-unix" \
    --load="module-null-sink sink_name=vsink rate=48000 channels=2" >>"$LOA_SERVICE_LOG" 2>&1 &
  LOA_PULSE_PID=$!
  local tries=0
  until pactl info >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ] || ! kill -0 "$LOA_PULSE_PID" 2>/dev/null; then
      _loa_note "PulseAudio did not answer (see $LOA_SERVICE_LOG); audio tier will skip (fail under CI=true)"
      kill "$LOA_PULSE_PID" 2>/dev/null || true; LOA_PULSE_PID=""; return 0
    fi
    sleep 0.1
  done
  pactl set-default-sink vsink && pactl set-default-source vsink.monitor || _loa_note "could not make vsink the default"
  _loa_note "PulseAudio null sink 'vsink' (pid $LOA_PULSE_PID)"
}

_loa_start_jack() {
  if ! command -v jackd >/dev/null 2>&1 || ! command -v jack_lsp >/dev/null 2>&1; then
    _loa_note "jackd/jack_lsp not installed; MIDI tests will skip (fail under CI=true)"; return 0
  fi
  JACK_NO_AUDIO_RESERVATION=1 jackd --no-realtime -d dummy -r 48000 -p 256 >>"$LOA_SERVICE_LOG" 2>&1 &
  LOA_JACK_PID=$!
  local tries=0
  until JACK_NO_START_SERVER=1 jack_lsp >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ] || ! kill -0 "$LOA_JACK_PID" 2>/dev/null; then
      _loa_note "jackd did not answer (see $LOA_SERVICE_LOG); MIDI tests will skip (fail under CI=true)"
      kill "$LOA_JACK_PID" 2>/dev/null || true; LOA_JACK_PID=""; return 0
    fi
    sleep 0.1
  done
  _loa_note "JACK dummy server (pid $LOA_JACK_PID)"
}

start_services() {
  LOA_SERVICE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/loa-services.XXXXXX")"
  chmod 700 "$LOA_SERVICE_DIR"
  export XDG_RUNTIME_DIR="$LOA_SERVICE_DIR"
  export LOA_SERVICE_LOG="$LOA_SERVICE_DIR/services.log"
  : >"$LOA_SERVICE_LOG"
  _loa_start_xvfb
  _loa_start_pulse
  _loa_start_jack
}

stop_services() {
  local pid
  for pid in $LOA_JACK_PID $LOA_PULSE_PID $LOA_XVFB_PID; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $LOA_JACK_PID $LOA_PULSE_PID $LOA_XVFB_PID; do
    wait "$pid" 2>/dev/null || true
  done
  LOA_JACK_PID=""; LOA_PULSE_PID=""; LOA_XVFB_PID=""
  if [ -n "$LOA_SERVICE_DIR" ]; then rm -rf "$LOA_SERVICE_DIR"; fi
  LOA_SERVICE_DIR=""
}
