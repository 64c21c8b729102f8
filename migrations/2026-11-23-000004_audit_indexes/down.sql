DROP INDEX audit_events_resource_newest;
DROP INDEX audit_events_actor_newest;
DROP INDEX audit_events_action_newest;
