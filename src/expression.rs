//! FER class names to ROS4HRI words, and valence/arousal from class probabilities.
//!
//! Valence and arousal are the probability-weighted mean of per-class points on Russell's
//! circumplex (values after Russell & Mehrabian 1977, as commonly used in affective computing):
//! angry (-0.51, 0.59), disgust (-0.60, 0.35), fear (-0.64, 0.60), happy (0.81, 0.51),
//! neutral (0, 0), sad (-0.63, -0.27), surprise (0.40, 0.67). Unknown classes count as neutral.

/// The hri_msgs/Expression word for a FER class name (unknown names pass through).
pub fn ros4hri_word(label: &str) -> &str {
    match label {
        "angry" => "angry",
        "disgust" => "disgusted",
        "fear" => "scared",
        "happy" => "happy",
        "neutral" => "neutral",
        "sad" => "sad",
        "surprise" => "surprised",
        other => other,
    }
}

fn circumplex(label: &str) -> (f32, f32) {
    match label {
        "angry" => (-0.51, 0.59),
        "disgust" => (-0.60, 0.35),
        "fear" => (-0.64, 0.60),
        "happy" => (0.81, 0.51),
        "sad" => (-0.63, -0.27),
        "surprise" => (0.40, 0.67),
        _ => (0.0, 0.0),
    }
}

/// (valence, arousal) in [-1, 1] for class probabilities in `labels` order.
pub fn valence_arousal(labels: &[String], probabilities: &[f32]) -> (f32, f32) {
    let (mut v, mut a) = (0.0, 0.0);
    for (l, p) in labels.iter().zip(probabilities) {
        let (cv, ca) = circumplex(l);
        v += p * cv;
        a += p * ca;
    }
    (v.clamp(-1.0, 1.0), a.clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_circumplex() {
        let labels: Vec<String> = [
            "angry", "disgust", "fear", "happy", "neutral", "sad", "surprise",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            labels.iter().map(|l| ros4hri_word(l)).collect::<Vec<_>>(),
            [
                "angry",
                "disgusted",
                "scared",
                "happy",
                "neutral",
                "sad",
                "surprised"
            ]
        );
        assert_eq!(
            valence_arousal(&labels, &[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]),
            (0.81, 0.51)
        );
        assert_eq!(
            valence_arousal(&labels, &[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]),
            (0.0, 0.0)
        );
        let (v, a) = valence_arousal(&labels, &[0.0, 0.0, 0.0, 0.5, 0.0, 0.5, 0.0]);
        assert!((v - 0.09).abs() < 1e-6 && (a - 0.12).abs() < 1e-6);
    }
}
