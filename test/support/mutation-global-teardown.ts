export { mutationGlobalTeardown as default } from './mutation-global-setup';
