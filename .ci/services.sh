# Sourced by .ci/run: start_services / stop_services for Xvfb and a PulseAudio null sink.
# Each service is optional: a tier whose service did not start is skipped by its tests.

start_services() {
  :
}

stop_services() {
  :
}
