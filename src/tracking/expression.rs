//! The expression vocabulary, one table: each FER class with its ROS4HRI word, its point on
//! Russell's circumplex and its drawing colour; valence/arousal from class probabilities.
//!
//! Valence and arousal are the probability-weighted mean of the classes' circumplex points
//! (values after Russell & Mehrabian 1977, as commonly used in affective computing). Classes
//! outside the table count as neutral, keep their name as their word and are drawn grey.

/// One expression class.
#[derive(Debug, PartialEq)]
pub struct ExpressionClass {
    /// The FER class name, as expression models name their outputs.
    pub fer: &'static str,
    /// The hri_msgs/Expression word.
    pub ros4hri: &'static str,
    pub valence: f32,
    pub arousal: f32,
    /// RGB, chosen so that a glance tells the classes apart.
    pub colour: [u8; 3],
}

const fn class(
    fer: &'static str,
    ros4hri: &'static str,
    (valence, arousal): (f32, f32),
    colour: [u8; 3],
) -> ExpressionClass {
    ExpressionClass {
        fer,
        ros4hri,
        valence,
        arousal,
        colour,
    }
}

pub static VOCABULARY: [ExpressionClass; 7] = [
    class("angry", "angry", (-0.51, 0.59), [230, 40, 40]),
    class("disgust", "disgusted", (-0.60, 0.35), [120, 170, 30]),
    class("fear", "scared", (-0.64, 0.60), [150, 60, 200]),
    class("happy", "happy", (0.81, 0.51), [255, 200, 0]),
    class("neutral", "neutral", (0.0, 0.0), [200, 200, 200]),
    class("sad", "sad", (-0.63, -0.27), [40, 110, 230]),
    class("surprise", "surprised", (0.40, 0.67), [255, 120, 20]),
];

/// Colour of a class outside the table.
const GREY: [u8; 3] = [160, 160, 160];

/// The class named `fer` (a FER class name).
pub fn class_of(fer: &str) -> Option<&'static ExpressionClass> {
    VOCABULARY.iter().find(|c| c.fer == fer)
}

/// The hri_msgs/Expression word for a FER class name (unknown names pass through).
pub fn ros4hri_word(fer: &str) -> &str {
    class_of(fer).map_or(fer, |c| c.ros4hri)
}

/// The FER class name for a FER name or a ROS4HRI word, any case (unknown words lowercased).
pub fn fer_name(word: &str) -> String {
    let w = word.trim().to_ascii_lowercase();
    VOCABULARY
        .iter()
        .find(|c| c.fer == w || c.ros4hri == w)
        .map_or(w, |c| c.fer.to_string())
}

/// The drawing colour of a FER class (grey outside the table).
pub fn colour(fer: &str) -> [u8; 3] {
    class_of(fer).map_or(GREY, |c| c.colour)
}

/// (valence, arousal) in [-1, 1] for class probabilities in `classes` order.
pub fn valence_arousal(classes: &[String], probabilities: &[f32]) -> (f32, f32) {
    let (mut v, mut a) = (0.0, 0.0);
    for (name, p) in classes.iter().zip(probabilities) {
        if let Some(c) = class_of(name) {
            v += p * c.valence;
            a += p * c.arousal;
        }
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

    #[test]
    fn words_map_back_to_fer_names_and_colours_differ() {
        assert_eq!(fer_name(" Scared"), "fear");
        assert_eq!(fer_name("surprise"), "surprise");
        assert_eq!(fer_name("Joyful"), "joyful");
        assert_eq!(ros4hri_word("contempt"), "contempt");
        let mut colours: Vec<[u8; 3]> = VOCABULARY.iter().map(|c| c.colour).collect();
        colours.push(colour("contempt"));
        colours.sort();
        colours.dedup();
        assert_eq!(colours.len(), VOCABULARY.len() + 1);
    }
}
