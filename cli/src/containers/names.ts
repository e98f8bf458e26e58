/** docker-style generated container names (`brave_turing`); a random suffix once the short lists collide. */
import { randomInt } from 'node:crypto';

const ADJECTIVES = ['brave', 'calm', 'eager', 'fervent', 'gifted', 'happy', 'jolly', 'keen', 'lucid', 'modest', 'nifty', 'quirky', 'sharp', 'tender', 'vibrant', 'zealous'];
const NAMES = ['curie', 'dijkstra', 'euler', 'gauss', 'hopper', 'kepler', 'lovelace', 'noether', 'pascal', 'ritchie', 'shannon', 'thompson', 'turing', 'wozniak'];

/** A name not in `taken`. Pure apart from its randomness. */
export function generateName(taken: ReadonlySet<string>): string {
  for (let attempt = 0; ; attempt++) {
    const base = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NAMES[randomInt(NAMES.length)]}`;
    const name = attempt < 10 ? base : `${base}${randomInt(1000)}`;
    if (!taken.has(name)) return name;
  }
}
