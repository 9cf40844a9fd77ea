"""AWS FIS as a fault backend: Lambda faults through AWS Fault Injection Service.

    setup.py       what a function needs for FIS (layer, env, bucket, role policies): the
                   preflight and `gameday fis plan`
    experiment.py  the experiment lifecycle: template (clientToken, qualified ARN, alarms as
                   stop conditions, run tags), start, polling, stop and cleanup
    actions.py     Chaos Toolkit actions: inject_fis_fault, stop_fis_experiments
    probes.py      Chaos Toolkit probes: fis_ready, fis_experiment_state

Facts in ../shared/docs/aws-behaviour.md, "AWS FIS Lambda actions"; user guide:
docs.aws.amazon.com/fis/latest/userguide/use-lambda-actions.html.
"""
