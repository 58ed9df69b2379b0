package raftcronv1

// Hand-written helpers on the generated types, so that every package decides
// "finished" by one rule.

// Finished reports whether the Job has a Complete or Failed condition that is True.
func (x *Job) Finished() bool {
	for _, c := range x.GetStatus().GetConditions() {
		if (c.GetType() == "Complete" || c.GetType() == "Failed") && c.GetStatus() == "True" {
			return true
		}
	}
	return false
}

// Finished reports whether the attempt is Succeeded, Failed or Lost.
func (x *Attempt) Finished() bool {
	switch x.GetState() {
	case "Succeeded", "Failed", "Lost":
		return true
	}
	return false
}
