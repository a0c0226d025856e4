import './base.css';
import './pipelines.css';
import './endpoints.css';
import './sweeps.css';
import './compute.css';
import './monitoring.css';
import './secrets.css';
