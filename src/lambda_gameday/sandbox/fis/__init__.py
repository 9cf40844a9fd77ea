"""AWS Fault Injection Service in the twin: experiments over moto's stored templates.

* model.py     what FIS accepts for Lambda actions; the configuration object's (twin) shape
* store.py     the S3 configuration location, read and written on moto's S3 in-process
* engine.py    experiments: status progression, action durations, stop conditions, writes
* extension.py the FIS Lambda extension inside each execution environment (polling)
* api.py       the interceptor on the endpoint's `fis` calls, and the sandbox component

Nothing is imported here: runtime.py imports extension.py, and engine.py imports runtime.
"""
