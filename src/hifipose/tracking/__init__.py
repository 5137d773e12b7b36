"""The steps of :class:`~hifipose.tracker.MultiTracker`, one module each.

- :mod:`~hifipose.tracking.clock`: the stream's clock (:class:`StreamClock`).
- :mod:`~hifipose.tracking.pose_filters`: MediaPipe's filter bank for one person
  (:class:`PoseFilters`).
- :mod:`~hifipose.tracking.track`: the record of one person (:class:`Track`, :class:`TrackStatus`).
- :mod:`~hifipose.tracking.similarity`: how well a pose fits a track (the tests identities rest on).
- :mod:`~hifipose.tracking.crossing`: one body seen by several crops (duplicates, contests).
- :mod:`~hifipose.tracking.identity`: which pose is whose on a frame, as named steps.

:mod:`hifipose.tracker` holds the tracker's lifecycle and re-exports the public names.
"""
