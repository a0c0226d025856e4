import './base.css';
import './pipelines.css';
