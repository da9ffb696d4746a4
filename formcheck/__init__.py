"""formcheck: a lift form checker that separates lumbar flexion from hip flexion.

Pipeline stages, one module each:
video (frames) -> estimator (poses) -> smoothing -> view, spine, kinematics (angles)
-> neutral -> reps -> assess (findings) -> report / overlay / cues.
`formcheck.pipeline` ties them together for offline analysis and live sessions.
"""

__version__ = "0.1.0"
