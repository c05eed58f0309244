"""Calls across a process boundary, for grading in judge mode.

The tests run in a judge process; the learner's module runs in a sandbox process. Both
sides speak the same small protocol over one socket (`channel`): data is copied by value
(`codec`: numbers, strings, bytes, containers, exceptions; never pickle), everything else
crosses as a reference that the owner keeps (`refs`, `proxies`), and a `Peer` carries the
calls, their results, their cancellation and the calls they make back (`peer`).

What a verdict rests on stays with the judge: a service the tests hand over is a judge
object, so its call log is written by the judge as the calls arrive, whatever the other
side does.
"""
