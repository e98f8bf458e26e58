import { runExecutorSuite } from './executor.suite.js';

runExecutorSuite('crun');
runExecutorSuite('runc');
