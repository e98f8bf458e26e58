export { imageConfigOf, fromChain, type ImageConfigInput } from './image-config.js';
export { writeBuiltImage, tagImage, type WrittenImage } from './image-exporter.js';
export { exportLocal, exportTar } from './rootfs-exporter.js';
export { exportArchive } from './archive-exporter.js';
