"""interference_clf: label passages with the election-threat areas cyberattack, disinformation, espionage.

>>> import interference_clf as ic
>>> clf = ic.load()
>>> clf.predict(["Des pirates ont paralysé le site de la commission électorale."])[0].labels
['cyberattack']
"""

from .classifier import Classifier, ClassifierConfig, ModelFormatError, Prediction, load
from .labels import LABELS

__all__ = ["LABELS", "Classifier", "ClassifierConfig", "ModelFormatError", "Prediction", "load"]
__version__ = "0.1.0"
